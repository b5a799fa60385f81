"""What Codat's query language may filter on, per async data type (see `query.py`).

(I) Every scalar property of the data type's schema, dotted refs included; `modifiedDate`
(when Codat wrote the record) and `sourceModifiedDate` (when the platform did) on all.
"""

from __future__ import annotations

from billbot.sandbox.codat.query import BILL_FIELDS, SUPPLIER_FIELDS, FieldKind

S, N, D = FieldKind.STRING, FieldKind.NUMBER, FieldKind.DATE
_MODIFIED = {"modifiedDate": D, "sourceModifiedDate": D, "metadata.isDeleted": S}

FIELDS: dict[str, dict[str, FieldKind]] = {
    "bills": {**BILL_FIELDS, **_MODIFIED, "subTotal": N, "taxAmount": N, "note": S},
    "suppliers": {**{k: v for k, v in SUPPLIER_FIELDS.items() if k != "balance"}, **_MODIFIED,
                  "registrationNumber": S, "taxNumber": S},
    "chartOfAccounts": {"id": S, "nominalCode": S, "name": S, "description": S,
                        "fullyQualifiedCategory": S, "fullyQualifiedName": S, "currency": S,
                        "currentBalance": N, "type": S, "status": S, "isBankAccount": S,
                        **_MODIFIED},
    "billPayments": {"id": S, "supplierRef.id": S, "supplierRef.supplierName": S,
                     "accountRef.id": S, "totalAmount": N, "currency": S, "currencyRate": N,
                     "date": D, "note": S, "reference": S, "paymentMethodRef.id": S,
                     **_MODIFIED},
    "billCreditNotes": {"id": S, "billCreditNoteNumber": S, "supplierRef.id": S,
                        "supplierRef.supplierName": S, "totalAmount": N, "subTotal": N,
                        "remainingCredit": N, "status": S, "issueDate": D, "currency": S,
                        "currencyRate": N, "note": S, **_MODIFIED},
    "taxRates": {"id": S, "name": S, "code": S, "status": S, "effectiveTaxRate": N,
                 "totalTaxRate": N, **_MODIFIED},
    "paymentMethods": {"id": S, "name": S, "type": S, "status": S, **_MODIFIED},
    "trackingCategories": {"id": S, "name": S, "status": S, "parentId": S, "hasChildren": S,
                           **_MODIFIED},
    "journals": {"id": S, "journalCode": S, "name": S, "type": S, "parentId": S,
                 "status": S, "createdOn": D, **_MODIFIED},
    "journalEntries": {"id": S, "description": S, "postedOn": D, "createdOn": D,
                       "updatedOn": D, "journalRef.id": S, "recordRef.id": S,
                       "recordRef.dataType": S, **_MODIFIED},
}
