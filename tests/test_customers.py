"""Customer Creation: the one customer path of the import, against the Magento twin over HTTP."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from bridge.domain import TaxRegistration
from bridge.importer.customers import customer_for_order
from bridge.importer.order_builder import OrderBuildError
from bridge.magento import MagentoClient
from bridge.order_settings import CustomerCreation, OrderSettings
from tests.harness import line, make_bridge, v2026_order
from tests.test_magento_client import NO_WAIT, amazon_order, fresh, settings_for, twin  # noqa: F401 - fixtures

NEW_ACCOUNT = OrderSettings(customer_creation=CustomerCreation.NEW_ACCOUNT)


@pytest.fixture
def client(fresh) -> MagentoClient:  # noqa: F811 - the imported fixture
    return MagentoClient(settings_for(fresh), retry=NO_WAIT)


def accounts(client: MagentoClient, email: str) -> list:
    return client.find_customers_by_email(email, website_id=1)


def test_guest_is_the_default_and_creates_no_account(client):
    order = amazon_order("111-0000000-0000001")
    assert customer_for_order(client, OrderSettings(), order, client.store_view("default")) is None
    assert accounts(client, order.buyer_email) == []


def test_new_account_keeps_the_address_and_is_found_again_for_the_next_order(client, fresh):  # noqa: F811
    view = client.store_view("default")
    first = replace(amazon_order("111-0000000-0000002"), buyer_company="Doe Widgets LLC",
                    tax_registrations=(TaxRegistration("BUYER", "US-12-3456789", "BUSINESS"),))

    made = customer_for_order(client, NEW_ACCOUNT, first, view)

    assert (made.email, made.firstname, made.lastname) == ("jane.doe@marketplace.amazon.com", "Jane", "Doe")
    stored = fresh.session().get(f"{fresh.rest_url}/customers/{made.id}", timeout=10).json()
    [address] = stored["addresses"]
    assert address["street"] == ["1 Main St"]
    assert (address["city"], address["postcode"], address["country_id"]) == ("Los Angeles", "90001", "US")
    assert address["region"]["region_code"] == "CA" and address["region_id"] == address["region"]["region_id"]
    assert address["telephone"] == "555-0100"
    assert address["vat_id"] == "US-12-3456789"
    assert address["default_billing"] and address["default_shipping"]

    second = amazon_order("111-0000000-0000003")
    assert customer_for_order(client, NEW_ACCOUNT, second, view).id == made.id
    assert len(accounts(client, "jane.doe@marketplace.amazon.com")) == 1


def test_without_a_buyer_email_the_order_stays_a_guest_order(client):
    order = replace(amazon_order("111-0000000-0000004"), buyer_email=None)
    assert customer_for_order(client, NEW_ACCOUNT, order, client.store_view("default")) is None
    assert accounts(client, "111-0000000-0000004@amazon.com") == []  # never a made-up address


def test_every_order_goes_to_the_one_predefined_customer(client):
    view = client.store_view("default")
    predefined = OrderSettings(customer_creation=CustomerCreation.PREDEFINED, predefined_customer_email="b2b@x.test")
    with pytest.raises(OrderBuildError, match=r'customer "b2b@x.test" set in Order Settings does not exist'):
        customer_for_order(client, predefined, amazon_order("111-0000000-0000005"), view)
    b2b = client.create_customer(email="b2b@x.test", firstname="B", lastname="Two", website_id=1)
    for n in (6, 7):
        assert customer_for_order(client, predefined, amazon_order(f"111-0000000-000000{n}"), view).id == b2b.id
    assert accounts(client, "jane.doe@marketplace.amazon.com") == []  # the buyer gets no account
    with pytest.raises(OrderBuildError, match="no customer e-mail is configured"):
        customer_for_order(client, replace(predefined, predefined_customer_email=None),
                           amazon_order("111-0000000-0000008"), view)


class BothSearchFirst(MagentoClient):
    """Holds each worker's first search until both have searched: the two creates then race for real."""

    def __init__(self, *args, barrier: threading.Barrier, **kwargs):
        super().__init__(*args, **kwargs)
        self.barrier = barrier
        self.searched = False

    def find_customers_by_email(self, email, *, website_id=None):
        found = super().find_customers_by_email(email, website_id=website_id)
        if not self.searched:
            self.searched = True
            self.barrier.wait(timeout=30)
        return found


def test_two_workers_creating_the_same_new_customer_make_one_account(fresh):  # noqa: F811
    barrier = threading.Barrier(2)
    workers = [BothSearchFirst(settings_for(fresh), retry=NO_WAIT, barrier=barrier) for _ in range(2)]
    view = workers[0].store_view("default")
    results: dict[int, object] = {}

    def work(n: int) -> None:
        try:
            results[n] = customer_for_order(workers[n], NEW_ACCOUNT, amazon_order(f"111-0000000-100000{n}"), view)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[n] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    ids = {getattr(r, "id", r) for r in results.values()}
    [account] = accounts(workers[0], "jane.doe@marketplace.amazon.com")
    assert ids == {account.id}


def test_two_orders_of_one_buyer_import_into_one_account(sqlite_url, redis_url, magento_twin, amazon_twin,
                                                          monkeypatch):
    bridge = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                         monkeypatch=monkeypatch)
    bridge.set_settings(customer_creation="new_account")
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    orders = [v2026_order(f"111-0000000-200000{n}", items=[line("SKU-1", "Thing", "1", "10.00")]) for n in (1, 2)]
    for o in orders:
        o["buyer"]["buyerEmail"] = "repeat.buyer@marketplace.amazon.com"
    bridge.seed_amazon(orders)

    bridge.sync()

    imported = bridge.magento_orders()
    assert len(imported) == 2
    customer_ids = {bridge.magento_order(o["entity_id"])["customer_id"] for o in imported}
    client = MagentoClient(settings_for(magento_twin), retry=NO_WAIT)
    [account] = client.find_customers_by_email("repeat.buyer@marketplace.amazon.com")
    assert customer_ids == {account.id}
    assert all(bridge.magento_order(o["entity_id"])["customer_is_guest"] == 0 for o in imported)
    bridge.runtime.close()
