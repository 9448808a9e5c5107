"""The staff workspace (``guji workspace``): review rounds of census records and OCR proofreading."""
