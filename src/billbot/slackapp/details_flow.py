"""Details: the click opens a modal at once (trigger ids live 3 s), then fills it with the
bill read afresh from Codat in the clicked channel's company, its supplier, the books' names
for its accounts and tax rates, its attachments, and billbot's own record of decisions and
payments. Reading is open to anyone in the channel, as `/bills show` is; a bill id the
channel's company does not hold (another company's, or a tampered button) is refused."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.lookups import get_supplier
from billbot.codat.models import Attachment, Bill, BillMappingOptions, Supplier
from billbot.context_token import ModalContext
from billbot.domain.bill_handles import carried
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services.bill_history import history_of
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import message_modal
from billbot.slackapp.details_blocks import DetailsData, details_loading, details_view
from billbot.slackapp.interactions import fresh_bill, start_click
from billbot.slackapp.modal_open import open_modal
from billbot.storage import invoice_uploads

logger = logging.getLogger("billbot.details")

COULD_NOT_SHOW = ("billbot could not show this bill; it told you why in a message in the "
                  "channel. Nothing was changed.")


async def details_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "details")
    if started is None or not started[0].trigger_id:
        return
    click, binding = started
    ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    metadata = bot.signer.dump(ctx)
    opened = await open_modal(bot, trigger_id=str(click.trigger_id), channel_id=click.channel_id,
                              user_id=click.user_id, view=details_loading(metadata))
    if opened is None:
        return
    view_id = str(opened["view"]["id"])
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="details", request_id=click.request_id)
    if bill is None:
        await bot.slack.views_update(view_id=view_id,
                                     view=message_modal("Bill details", COULD_NOT_SHOW))
        return
    data = await gather_details(bot, binding, bill)
    await bot.slack.views_update(view_id=view_id,
                                 view=details_view(data, today=bot.today(), metadata=metadata))
    event(logger, "details shown", lines=len(bill.line_items or []))


async def gather_details(bot: Billbot, binding: Binding, bill: Bill) -> DetailsData:
    """Everything the modal shows; a Codat read that fails leaves its part out, named."""
    scope = (binding.company_id, binding.connection_id)
    supplier_read, options_read, attachments_read = await asyncio.gather(
        get_supplier(bot.codat, *scope, bill.supplier_ref.id),
        bot.codat.get_bill_mapping_options(*scope),
        bot.codat.list_attachments(*scope, bill.id), return_exceptions=True)
    for failed in (supplier_read, options_read, attachments_read):
        if isinstance(failed, BaseException):
            if not isinstance(failed, CodatError | ValueError):
                raise failed
            logger.warning("details read failed: %s", failed.__class__.__name__)
    supplier = supplier_read if isinstance(supplier_read, Supplier) else None
    accounts: dict[str, str] = {}
    tax_rates: dict[str, str] = {}
    if isinstance(options_read, BillMappingOptions):
        accounts = {a.id: " ".join(x for x in (a.nominal_code, a.name) if x) or a.id
                    for a in options_read.accounts}
        tax_rates = {t.id: t.name or t.code or t.id for t in options_read.tax_rates}
    attachments: list[Attachment] | None = attachments_read \
        if isinstance(attachments_read, list) else None
    history = await bot.db(lambda s: history_of(s, company_id=scope[0], connection_id=scope[1],
                                                bill_id=bill.id), read_only=True)
    shared = await bot.db(lambda s: invoice_uploads.shared_permalinks(
        s, company_id=scope[0], connection_id=scope[1], bill_id=bill.id), read_only=True)
    return DetailsData(bill=bill, supplier=supplier, account_names=accounts,
                       tax_rate_names=tax_rates, attachments=attachments, history=history,
                       shared=shared)
