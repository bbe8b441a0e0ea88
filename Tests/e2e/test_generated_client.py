"""A client generated from the OpenAPI document by a generator nobody here wrote
(`openapi-python-client`, pinned in requirements-openapi.txt) does what a creator's script and a
buyer's script would, against the real `souk` binary: a seller signs in and makes a token, creates a
download product, uploads a file, publishes it and reads it back; a buyer signs up, makes a token,
fills the cart, checks out with the test provider, pays on its hosted page (as a browser would),
waits for the order to be paid, finds the product in the library and downloads the exact bytes; the
seller sees that download in the product's download log.

Every API call goes through the generated package (`api.<tag>.<operation>.sync_detailed` and its
models), and the assertions read the generated models' typed fields: a document that lies about a
request or an answer (a wrong content type, a missing or misnamed field, a wrong enum) fails here.
Only what is not the API uses `requests`: the hosted test-checkout page and the signed file URL.

The client is generated from the document in the repository (Sources/SoukHTTP/Templates/
openapi.json), not from the one the running binary serves; test_openapi.py checks the two agree.
"""
import hashlib
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
import uuid
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from shop_helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "Sources" / "SoukHTTP" / "Templates" / "openapi.json"
# The generator runs from the project's venv (the interpreter running this test must import what it
# writes: `httpx` and `attrs` come with the generator).
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent
GENERATOR = VENV_BIN / "openapi-python-client"
PACKAGE = "souk_generated_client"

# The operations the journey calls: (method, path, generated module under `api`).
JOURNEY = [
    ("POST", "/api/v1/auth/login", "auth.login"),
    ("POST", "/api/v1/auth/register", "auth.register"),
    ("POST", "/api/v1/tokens", "account.create_token"),
    ("GET", "/api/v1/me", "account.me"),
    ("POST", "/api/v1/products", "catalog.create_product"),
    ("POST", "/api/v1/products/{id}/files", "catalog.upload_product_file"),
    ("GET", "/api/v1/products/{id}/files", "catalog.list_product_files"),
    ("PATCH", "/api/v1/products/{id}", "catalog.update_product"),
    ("GET", "/api/v1/products/{id}", "catalog.get_product"),
    ("POST", "/api/v1/cart/items", "cart.add_cart_item"),
    ("POST", "/api/v1/checkout", "orders.checkout"),
    ("GET", "/api/v1/orders/{id}", "orders.get_order"),
    ("GET", "/api/v1/library", "library.get_library"),
    ("GET", "/api/v1/products/{id}/downloads", "catalog.list_product_downloads"),
]

STORE = {
    # Fulfilment's jobs (receipt, notifications) run soon after the payment.
    "SOUK_JOBS_POLL_MILLISECONDS": "100",
}

PAID = {"paid", "fulfilled", "completed"}


# --- the generated client ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Runs the generator on the document and imports the package it writes. Returns the package's
    modules and the generator's warnings (each a header and its detail)."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: pip install -r Tests/e2e/requirements-openapi.txt")
    out = tmp_path_factory.mktemp("generated") / PACKAGE
    # The generator formats its output with `ruff` (one of its own dependencies, in the same venv);
    # without it on PATH it prints "Skipping Integration" warnings that are about this machine,
    # not about the document.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(DOCUMENT), "--output-path", str(out), "--meta", "none"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the generator failed ({result.returncode}):\n{output}"
    assert "Error(s) encountered" not in output, output
    problems = generator_warnings(output)
    for problem in problems:
        warnings.warn(f"openapi-python-client: {problem}", stacklevel=1)

    sys.path.insert(0, str(out.parent))
    try:
        modules = {"client": importlib.import_module(f"{PACKAGE}.client"),
                   "models": importlib.import_module(f"{PACKAGE}.models"),
                   "types": importlib.import_module(f"{PACKAGE}.types"),
                   "api": SimpleNamespace()}
        missing = []
        for _, _, dotted in JOURNEY:
            tag, operation = dotted.split(".")
            try:
                module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
            except ModuleNotFoundError:
                missing.append(dotted)
                continue
            namespace = getattr(modules["api"], tag, None) or SimpleNamespace()
            setattr(namespace, operation, module)
            setattr(modules["api"], tag, namespace)
        yield SimpleNamespace(**modules, warnings=problems, output=output, missing=missing)
    finally:
        sys.path.remove(str(out.parent))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def generator_warnings(output: str) -> list[str]:
    """The generator's report, one entry per problem. It prints each problem as a header block and a
    detail block separated by blank lines (a parse problem's header is `WARNING parsing METHOD PATH
    within TAG.`, and its detail may run over several blocks), then a closing link. Returns [] when it
    printed no report."""
    marker = "Warning(s) encountered while generating"
    if marker not in output:
        return []
    body = output.split(marker, 1)[1].split("\n", 1)[-1]
    body = body.split("If you believe this was a mistake", 1)[0]
    entries: list[list[str]] = []
    for block in (block.strip() for block in re.split(r"\n\s*\n", body)):
        if not block:
            continue
        current = entries[-1] if entries else None
        starts_entry = (block.startswith(("WARNING", "ERROR")) or current is None
                        or (not current[0].startswith(("WARNING", "ERROR")) and len(current) >= 2))
        if starts_entry:
            entries.append([block])
        else:
            current.append(block)
    return [" | ".join(entry) for entry in entries]


def about(problem: str, method: str, path: str) -> bool:
    """The problem names this operation (not merely a path that starts with it)."""
    return re.search(rf"\b{method} {re.escape(path)}(?=\s|$)", problem) is not None


def test_the_generator_understands_every_operation_the_journey_needs(generated):
    assert generated.missing == [], f"not generated: {generated.missing}\n{generated.output}"
    about_journey = [problem for problem in generated.warnings
                     for method, path, _ in JOURNEY if about(problem, method, path)]
    assert about_journey == [], "the generator could not understand:\n" + "\n".join(about_journey)
    # Warnings about other operations do not fail this test; the fixture reports each one as a
    # pytest warning (see the run's warnings summary).


# --- the journey ---------------------------------------------------------------------------------------

def ok(response, status: int):
    """The response has this status and a body the generated client parsed into its model."""
    assert response.status_code == status, f"{response.status_code}: {response.content[:500]!r}"
    assert response.parsed is not None, f"the generated client did not parse: {response.content[:500]!r}"
    assert type(response.parsed).__name__ != "Problem", response.parsed
    return response.parsed


def sign_in_and_make_token(gen, base_url: str, email: str, password: str, token_name: str):
    """Login sets the session cookie in the generated client's httpx client; the token call, on the
    same client, is authenticated by that cookie. Returns (user, token)."""
    models, api = gen.models, gen.api
    with gen.client.Client(base_url=base_url, raise_on_unexpected_status=True) as browserless:
        user = ok(api.auth.login.sync_detailed(client=browserless, body=models.LoginRequest(email=email,
                                                                                             password=password)), 200)
        assert browserless.get_httpx_client().cookies.get("souk_session"), "login set no session cookie"
        token = ok(api.account.create_token.sync_detailed(
            client=browserless, body=models.CreateTokenRequest(name=token_name)), 201)
    assert isinstance(token.token, str) and token.token.startswith("souk_pat_"), token
    assert {str(scope) for scope in token.scopes} == {"read", "write"}, token.scopes
    return user, token.token


def pay_on_the_hosted_page(souk, redirect_url: str):
    """What the buyer's browser does on the test provider's page: open it and press Pay."""
    browser = requests.Session()
    hosted = browser.get(redirect_url, timeout=30)
    assert hosted.status_code == 200 and "TEST MODE" in hosted.text, hosted.text[:500]
    csrf = re.search(r'name="_csrf" value="([^"]+)"', hosted.text)
    assert csrf, "no _csrf on the hosted checkout page"
    session_id = redirect_url.rstrip("/").rsplit("/", 1)[1]
    paid = browser.post(souk.url(f"/test-checkout/{session_id}/pay"), data={"_csrf": csrf.group(1)},
                        allow_redirects=False, timeout=30)
    assert paid.status_code == 303, f"{paid.status_code}: {paid.text[:500]}"


def test_a_creators_script_and_a_buyers_script_through_the_generated_client(make_souk, generated):
    assert generated.missing == [], f"not generated: {generated.missing}"
    souk = make_souk(env=STORE)
    models, api, Client, AuthenticatedClient = (generated.models, generated.api, generated.client.Client,
                                                generated.client.AuthenticatedClient)
    File = generated.types.File

    # 1. The seller: the operator's admin account (a solo store's admin is its seller).
    seller_email = f"creator-{uuid.uuid4().hex[:8]}@example.com"
    souk.cli("user", "create", "--role", "admin", "--email", seller_email, input="creator password\n")
    seller_user, seller_token = sign_in_and_make_token(generated, souk.base_url, seller_email, "creator password",
                                                       "release script")
    assert seller_user.email == seller_email and seller_user.role == models.UserRole.ADMIN

    seller = AuthenticatedClient(base_url=souk.base_url, token=seller_token, raise_on_unexpected_status=True)
    anonymous = Client(base_url=souk.base_url, raise_on_unexpected_status=True)
    with seller, anonymous:
        me = ok(api.account.me.sync_detailed(client=seller), 200)
        assert me.id == seller_user.id and me.role == models.UserRole.ADMIN

        # 2. The creator's script: product, file, publish, read back.
        created = ok(api.catalog.create_product.sync_detailed(client=seller, body=models.CreateProductRequest(
            title="Field Notes on Generated Clients", kind=models.ProductKind.DOWNLOAD, category="Books",
            price=1500, currency="USD", summary="A book made by a script.", tags=["openapi", "e2e"],
        )), 201)
        assert isinstance(created, models.Product)
        assert created.status == models.ProductStatus.DRAFT
        assert created.kind == models.ProductKind.DOWNLOAD
        assert (created.price, created.currency, created.seller_id) == (1500, "USD", seller_user.id)

        data = b"%PDF-1.7 generated-client journey\n" + os.urandom(64 * 1024) + b"\n%%EOF\n"
        uploaded = ok(api.catalog.upload_product_file.sync_detailed(
            created.id, client=seller, filename="field-notes.pdf",
            body=File(payload=io.BytesIO(data), file_name="field-notes.pdf", mime_type="application/octet-stream"),
        ), 201)
        assert isinstance(uploaded, models.ProductFile)
        assert (uploaded.name, uploaded.size, uploaded.version) == ("field-notes.pdf", len(data), 1)
        assert uploaded.sha256 == hashlib.sha256(data).hexdigest()

        files = ok(api.catalog.list_product_files.sync_detailed(created.id, client=seller), 200)
        assert [(f.id, f.name) for f in files.data] == [(uploaded.id, "field-notes.pdf")]

        # A draft is not public.
        assert api.catalog.get_product.sync_detailed(created.id, client=anonymous).status_code == 404

        published = ok(api.catalog.update_product.sync_detailed(
            created.id, client=seller, body=models.UpdateProductRequest(status=models.ProductStatus.PUBLISHED)), 200)
        assert published.status == models.ProductStatus.PUBLISHED and published.published_at

        product = ok(api.catalog.get_product.sync_detailed(created.id, client=anonymous), 200)
        assert isinstance(product, models.Product)
        assert (product.id, product.status, product.kind, product.title, product.price) == (
            created.id, models.ProductStatus.PUBLISHED, models.ProductKind.DOWNLOAD,
            "Field Notes on Generated Clients", 1500)

        # 3. The buyer's script: sign up, sign in, token.
        buyer_email = f"reader-{uuid.uuid4().hex[:8]}@example.com"
        with Client(base_url=souk.base_url, raise_on_unexpected_status=True) as signup:
            registered = ok(api.auth.register.sync_detailed(client=signup, body=models.RegisterRequest(
                email=buyer_email, password="reader password", name="Ada Reader",
                role=models.RegisterRequestRoleType1.BUYER)), 201)
        assert registered.email == buyer_email and registered.role == models.UserRole.BUYER
        assert registered.seller_status is None
        buyer_user, buyer_token = sign_in_and_make_token(generated, souk.base_url, buyer_email, "reader password",
                                                         "reader script")
        assert buyer_user.id == registered.id

        with AuthenticatedClient(base_url=souk.base_url, token=buyer_token, raise_on_unexpected_status=True,
                                 timeout=60) as buyer:
            cart = ok(api.cart.add_cart_item.sync_detailed(
                client=buyer, body=models.AddCartItemRequest(product_id=product.id)), 200)
            assert [(item.product_id, item.quantity) for item in cart.items] == [(product.id, 1)]
            assert (cart.total, cart.currency) == (1500, "USD")

            result = ok(api.orders.checkout.sync_detailed(
                client=buyer, idempotency_key=str(uuid.uuid4()),
                body=models.CheckoutRequest(provider=models.PaymentProvider.TEST)), 201)
            order = result.order
            assert order.status == models.OrderStatus.CREATED
            assert order.provider == models.OrderProvider.TEST and order.test is True
            assert (order.total, order.currency, order.buyer_email) == (1500, "USD", buyer_email)
            assert [(item.product_id, item.amount, item.quantity) for item in order.items] == [(product.id, 1500, 1)]
            assert "/test-checkout/" in result.redirect_url

            pay_on_the_hosted_page(souk, result.redirect_url)

            last = {}

            def paid():
                last["order"] = ok(api.orders.get_order.sync_detailed(order.id, client=buyer), 200)
                return last["order"] if str(last["order"].status) in PAID else None

            try:
                settled = wait_for(paid, f"order {order.id} to be paid", timeout=20.0, interval=0.1)
            except AssertionError as error:
                raise AssertionError(f"{error}; it is {last['order'].status}") from None
            assert isinstance(settled.status, models.OrderStatus)
            assert settled.paid_at is not None and settled.id == order.id

            library = ok(api.library.get_library.sync_detailed(client=buyer), 200)
            entries = [entry for entry in library.data if entry.product_id == product.id]
            assert len(entries) == 1, [entry.product_id for entry in library.data]
            entry = entries[0]
            assert (entry.order_id, entry.kind, entry.title) == (order.id, models.ProductKind.DOWNLOAD,
                                                                 product.title)
            assert [(f.id, f.name, f.size, f.version) for f in entry.files] == [
                (uploaded.id, "field-notes.pdf", len(data), 1)]
            download_url = entry.files[0].download_url
            assert "sig=" in download_url and "expires=" in download_url, download_url

        # The signed link is a file, not the API: fetched as a browser would, with no credentials.
        url = download_url if download_url.startswith("http") else souk.url(download_url)
        fetched = requests.get(url, timeout=60)
        assert fetched.status_code == 200, fetched.text[:500]
        assert fetched.content == data

        # The seller's view of it: the download log of the product.
        log = ok(api.catalog.list_product_downloads.sync_detailed(product.id, client=seller), 200)
        assert [(d.file_id, d.file_name, d.file_version, d.bytes_, d.user_email) for d in log.data] == [
            (uploaded.id, "field-notes.pdf", 1, len(data), buyer_email)]
