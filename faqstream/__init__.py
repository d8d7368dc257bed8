"""faqstream: grounded, cited answers to customer questions from a company's own policy documents."""

__version__ = "0.1.0"
