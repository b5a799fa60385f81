"""Every operation of the async Bill Pay spec (sync-for-payables-v1-async), with its handler.

Companies and connections are the same paths in both specs; `app.py` serves them once
(their answers satisfy both specs' schemas).
"""

from __future__ import annotations

from billbot.sandbox.codat import routes_data as data
from billbot.sandbox.codat import routes_push as push
from billbot.sandbox.codat import routes_push_records as records
from billbot.sandbox.codat.pipeline import Handler

COMPANY = "/companies/{companyId}"
CONNECTION = COMPANY + "/connections/{connectionId}"
DATA = COMPANY + "/data"
PUSH = CONNECTION + "/push"
OPTIONS = CONNECTION + "/options"
BILL_ATTACHMENTS = CONNECTION + "/data/bills/{billId}/attachments"


def _reads(path: str, param: str, resource: str) -> list[tuple[str, str, Handler]]:
    return [("GET", f"{DATA}/{path}", data.list_data(path, resource)),
            ("GET", f"{DATA}/{path}/{{{param}}}", data.get_data(path, param, resource))]


ASYNC_OPERATIONS: list[tuple[str, str, Handler]] = [
    ("POST", DATA + "/all", data.refresh_all),
    ("POST", DATA + "/queue/{dataType}", data.refresh_data_type),
    ("GET", COMPANY + "/dataStatus", data.data_status),
    ("GET", DATA + "/history", data.list_pull_operations),
    ("GET", DATA + "/history/{datasetId}", data.get_pull_operation),
    ("GET", COMPANY + "/push", push.list_push_operations),
    ("GET", COMPANY + "/push/{pushOperationKey}", push.get_push_operation),
    ("GET", DATA + "/info", data.accounting_profile),
    *_reads("accounts", "accountId", "Account"),
    *_reads("bills", "billId", "Bill"),
    *_reads("suppliers", "supplierId", "Supplier"),
    *_reads("billPayments", "billPaymentId", "Bill payment"),
    *_reads("billCreditNotes", "billCreditNoteId", "Bill credit note"),
    *_reads("taxRates", "taxRateId", "Tax rate"),
    *_reads("paymentMethods", "paymentMethodId", "Payment method"),
    *_reads("trackingCategories", "trackingCategoryId", "Tracking category"),
    *_reads("journals", "journalId", "Journal"),
    ("GET", BILL_ATTACHMENTS, data.list_attachments),
    ("GET", BILL_ATTACHMENTS + "/{attachmentId}", data.get_attachment),
    ("GET", BILL_ATTACHMENTS + "/{attachmentId}/download", data.download_attachment),
    *[("GET", f"{OPTIONS}/{data_type}", push.options_model(data_type))
      for data_type in ("bankAccounts", "chartOfAccounts", "bills", "billPayments",
                        "billCreditNotes", "suppliers", "journals", "journalEntries")],
    ("POST", PUSH + "/billPayments", push.create_bill_payment),
    ("DELETE", PUSH + "/billPayments/{billPaymentId}", push.delete_bill_payment),
    ("POST", PUSH + "/bills", records.create_bill),
    ("PUT", PUSH + "/bills/{billId}", records.update_bill),
    ("DELETE", PUSH + "/bills/{billId}", records.delete_bill),
    ("POST", PUSH + "/bills/{billId}/attachments", records.upload_attachment),
    ("DELETE", PUSH + "/bills/{billId}/attachments/{attachmentId}", records.delete_attachment),
    ("POST", PUSH + "/billCreditNotes", records.create_credit_note),
    ("PUT", PUSH + "/billCreditNotes/{billCreditNoteId}", records.update_credit_note),
    ("POST", PUSH + "/suppliers", records.create_supplier),
    ("PUT", PUSH + "/suppliers/{supplierId}", records.update_supplier),
    ("POST", PUSH + "/accounts", records.create_account),
    ("POST", PUSH + "/bankAccounts", records.create_bank_account),
    ("POST", PUSH + "/journals", records.create_journal),
    ("POST", PUSH + "/journalEntries", records.create_journal_entry),
]
