"""guji: digitisation and preservation pipeline for Chinese ancient books and local documents."""

__version__ = "0.1.0"
