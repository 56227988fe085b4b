"""zhifa (执法): a comprehensive administrative law-enforcement platform.

The package is laid out by domain (see DESIGN.md §4): ``models`` holds every ORM model on one
metadata, each domain folder holds its schemas, repository, service and routes.
"""

__version__ = "0.1.0"
