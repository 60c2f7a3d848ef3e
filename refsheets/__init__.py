"""refsheets: reference cards for French public tenders.

The library does the work; the `refsheets` command is a thin layer over it::

    from refsheets import load_library
    library = load_library("data")
"""

from refsheets.library import Library, load_library

__all__ = ["Library", "__version__", "load_library"]
__version__ = "0.1.0"
