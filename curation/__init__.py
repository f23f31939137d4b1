"""Curation shared by the catalog, the studies and the meetings.

Neither app owns it: reading documents within limits, collecting every problem of
an import in one pass, previewing and applying a plan in one transaction
(``curation.imports``), and the change history with undo (``curation.history``).
"""
