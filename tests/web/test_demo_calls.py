"""The demo's calls to action: petitions with signatures and a relayed mobilization, whose
pages never show the name of the signer who chose to stay private."""

from __future__ import annotations

from urllib.parse import urlsplit

from entraide.demo.calls import add_calls
from server.config import Config
from server.db import Pool
from server.services import groups
from tests.factories import make_account, make_group, make_member
from tests.web.conftest import OpenVisitor


async def test_demo_calls_make_public_pages_that_keep_the_private_signer_private(
    visitors: OpenVisitor, db: Pool, web_config: Config
) -> None:
    amina = await make_account(db, web_config, "amina")
    marc = await make_account(db, web_config, "marc")
    cantine = await make_group(db, web_config, amina, "cantine")
    await make_group(db, web_config, marc, "voisins")
    for name in ("lucas", "chloe"):
        await make_member(db, cantine, await make_account(db, web_config, name))

    made = await add_calls(
        db, web_config, group="cantine", organizer="amina", signers=["lucas", "chloe"],
        ally_group="voisins", ally_organizer="marc",
    )  # fmt: skip

    assert set(made["urls"]) == {"petition", "petition_won", "alliances", "mobilization"}
    assert made["never_public"] == ["Solène Marchetti"]
    visitor = visitors("fr")
    public = [made["urls"]["petition"], made["urls"]["petition_won"], made["urls"]["mobilization"]]
    pages = {url: (await visitor.page(urlsplit(url).path)).text for url in public}
    pages["group"] = (await visitor.page("/groups/cantine")).text
    pages["ally"] = (await visitor.page("/groups/voisins")).text
    petition = pages[made["urls"]["petition"]]
    assert "3 signatures" in petition and "lucas" in petition
    assert "Gagnée" in pages[made["urls"]["petition_won"]]
    assert "Rassemblement pour la halte de nuit" in pages["ally"]  # relayed by the ally
    for url, text in pages.items():
        for secret in made["never_public"]:
            assert secret not in text, url
    # The organizers' export is the one place the name appears.
    organizer = visitors()
    assert (await organizer.log_in("amina")).status_code == 303
    csv = (await organizer.get(urlsplit(made["urls"]["petition"]).path + "/signatures.csv")).text
    assert "Solène Marchetti" in csv
    assert (await groups.get_group_by_slug(db, "cantine")).member_count == 3
