"""Create bill's suggestions against the Codat sandbox: the company's suppliers read over HTTP,
matched in a PDF's text layer; a supplier list Codat cannot give leaves the other fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billbot.codat import CodatClient, RetryPolicy
from billbot.domain.bill_suggestions import NO_TEXT_IMAGE, SUGGESTED_HINT
from billbot.sandbox.codat import FaultKind
from billbot.sandbox.codat.invoice_files import receipt_png
from billbot.services.document_suggestions import suggest_for_file, supplier_names
from billbot.slackapp.suggestion_blocks import suggestion_context
from tests.domain.text_pdfs import lines_pdf
from tests.plugins.openapi_contract import CodatSandbox


def _ids(sandbox: CodatSandbox) -> tuple[str, str]:
    return sandbox.state.main_company_id, sandbox.state.main_connection_id


async def test_a_seeded_supplier_is_matched_and_shown_to_check(
        codat_sandbox: CodatSandbox, codat_client: CodatClient) -> None:
    company, connection = _ids(codat_sandbox)
    names = await supplier_names(codat_client, company, connection)
    supplier_id, name = next(iter(names.items()))
    pdf = lines_pdf([name.upper(), "Invoice No: S-77", "Invoice date: 3 Nov 2026",
                     "Due date: 2026-12-03", "Amount due: £1,020.50"])
    got = await suggest_for_file(codat_client, company_id=company, connection_id=connection,
                                 document=pdf, media_type="application/pdf")
    assert (got.supplier_id, got.reference, got.issue_date, got.due_date, got.total,
            got.currency) == (supplier_id, "S-77", date(2026, 11, 3), date(2026, 12, 3),
                              Decimal("1020.50"), "GBP")
    text = suggestion_context(got)["elements"][0]["text"]
    assert SUGGESTED_HINT in text and "S-77" in text and "GBP 1,020.50" in text


async def test_an_image_says_so_and_codat_down_still_reads_the_document(
        codat_sandbox: CodatSandbox, codat_client: CodatClient) -> None:
    company, connection = _ids(codat_sandbox)
    image = await suggest_for_file(codat_client, company_id=company, connection_id=connection,
                                   document=receipt_png(1), media_type="image/png")
    assert image.empty and NO_TEXT_IMAGE in suggestion_context(image)["elements"][0]["text"]
    codat_sandbox.state.faults.next(FaultKind.SERVER_ERROR, 100, path="/suppliers")
    once = codat_client.with_retry(RetryPolicy(max_attempts=1, max_elapsed=0.0))
    got = await suggest_for_file(once, company_id=company, connection_id=connection,
        document=lines_pdf(["Invoice # Z-1", "Total EUR 9.00"]), media_type="application/pdf")
    assert (got.supplier_id, got.reference, got.total, got.currency) == (
        None, "Z-1", Decimal("9.00"), "EUR")
