"""The paths of Codat's async Bill Pay API (v1) billbot calls. Reads come from Codat's synced
copy under `/companies/{id}/data`; writes are push operations under the connection."""

from __future__ import annotations

COMPANY = "/companies/{companyId}"
DATA = COMPANY + "/data"
CONNECTION = COMPANY + "/connections/{connectionId}"
PUSH = CONNECTION + "/push"

INFO = DATA + "/info"
BILLS = DATA + "/bills"
BILL = BILLS + "/{billId}"
BILL_PAYMENTS = DATA + "/billPayments"
BILL_PAYMENT = BILL_PAYMENTS + "/{billPaymentId}"
SUPPLIERS = DATA + "/suppliers"
BILL_CREDIT_NOTES = DATA + "/billCreditNotes"
BILL_CREDIT_NOTE = BILL_CREDIT_NOTES + "/{billCreditNoteId}"
ACCOUNTS = DATA + "/accounts"
TAX_RATES = DATA + "/taxRates"
QUEUE = DATA + "/queue/{dataType}"

ATTACHMENTS = CONNECTION + "/data/bills/{billId}/attachments"
ATTACHMENT_DOWNLOAD = ATTACHMENTS + "/{attachmentId}/download"
BANK_ACCOUNT_MODEL = CONNECTION + "/options/bankAccounts"

PUSH_BILLS = PUSH + "/bills"
PUSH_BILL = PUSH_BILLS + "/{billId}"
PUSH_ATTACHMENTS = PUSH_BILL + "/attachments"
PUSH_BILL_PAYMENTS = PUSH + "/billPayments"
PUSH_BILL_PAYMENT = PUSH_BILL_PAYMENTS + "/{billPaymentId}"
PUSH_SUPPLIERS = PUSH + "/suppliers"
PUSH_BILL_CREDIT_NOTES = PUSH + "/billCreditNotes"
PUSH_BANK_ACCOUNTS = PUSH + "/bankAccounts"

PUSH_OPERATIONS = COMPANY + "/push"
PUSH_OPERATION = PUSH_OPERATIONS + "/{pushOperationKey}"
