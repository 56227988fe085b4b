"""The legal library (法律法规库): legal documents, one row per revision, and their provisions
(条), one row per version of an article's text.

Owns the Markdown statute reader (``markdown``), citations (``citations``: the power list and the
discretion engine resolve their legal basis through it), the import and revision rules
(``service``) and the JSON API (``endpoints``). Nothing is overwritten: a changed article is a new
provision version and a new revision of a law is a new document; both are ledgered.
"""
