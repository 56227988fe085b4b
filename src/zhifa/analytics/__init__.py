"""Analytics (考核 / 决策): KPIs per squad and officer."""
