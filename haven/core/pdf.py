"""PDF documents with Cyrillic text: fpdf2 with the DejaVu fonts shipped in ``core/fonts``.

Every PDF Haven writes (a case file for court, a drafted application) starts from
:func:`new_document`, so the fonts are registered in one place and no document
depends on fonts installed on the server.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fpdf import FPDF

# fontTools logs every font subsetting step at INFO (and the glyphs used at DEBUG: which
# characters a document holds); none of it belongs in Haven's logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"


def new_document(title: str, *, author: str = "") -> FPDF:
    """An A4 document in portrait with DejaVu Sans (regular and bold) as ``FAMILY``."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.set_creator("Haven")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font(FAMILY, size=11)
    return pdf
