"""Rule modules of this family register on import (see validators/rules/families.py)."""
