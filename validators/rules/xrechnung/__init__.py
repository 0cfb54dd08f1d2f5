"""XRechnung Schematron 2.5.0 (XRechnung 3.0.2) for UBL and CII, with the merged PEPPOL-EN16931-R* rules.

Rule modules register on import (see validators/rules/families.py). Each module owns one official
pattern, registering its contexts in the official order (``_patterns.py`` creates the patterns):
``ubl_peppol``/``cii_peppol`` (merged Peppol BIS rules), ``ubl_cius``/``cii_cius`` (BR-DE-*, BR-TMP-*),
``ubl_extension``/``cii_extension`` (BR-DEX-*) and ``ubl_cvd``/``cii_cvd`` (BR-DE-CVD-*, BR-TMP-CVD-*).
All XRechnung scenarios run the whole set: Extension and CVD rules gate themselves on BT-24.
"""
