"""Excel and CSV exchange of the catalog in the layout of docs/catalog-format.md.

Invariants: an import validates every row before anything is saved and reports each problem by
sheet, row and column; it saves all or nothing; importing the same file twice changes nothing.
"""
