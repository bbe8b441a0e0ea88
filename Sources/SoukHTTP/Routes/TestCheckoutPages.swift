import Foundation
import Hummingbird
import SoukCore
import SoukDatabase
import SoukPayments

/// The test provider's hosted checkout page, `/test-checkout/{session}`: what Stripe's page is
/// for real payments, clearly marked TEST MODE. Absent (404) unless the store offers test payments.
struct TestCheckoutPages: Sendable {
    let services: AppServices

    func register(on router: Router<SoukRequestContext>) {
        router.get("test-checkout/:session", use: show)
        router.post("test-checkout/:session/:choice", use: choose)
    }

    private func provider() throws -> TestProvider {
        guard let test = services.providers.test else {
            throw SoukError.notFound("This store does not offer test payments; this page")
        }
        return test
    }

    @Sendable func show(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        _ = try provider()
        let id = try context.decodedParameter("session")
        guard let session = try await services.database.testSession(id: id) else {
            throw SoukError.notFound("The test checkout \(id)")
        }
        return services.pages.render(
            "test_checkout", title: "TEST MODE checkout", context: context,
            [
                "id": session.id, "order_id": session.orderID, "email": session.buyerEmail,
                "open": session.status == .open, "status": session.status.rawValue,
                "total_label": MoneyFormat.amount(session.amount, currency: session.currency),
                "lines": session.lines.map { line -> [String: Any] in
                    [
                        "title": line.title, "quantity": line.quantity,
                        "amount_label": MoneyFormat.amount(line.unitAmount * line.quantity, currency: session.currency),
                    ]
                },
            ])
    }

    @Sendable func choose(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let test = try provider()
        let id = try context.decodedParameter("session")
        guard let choice = TestProvider.Choice(rawValue: try context.decodedParameter("choice")) else {
            throw SoukError.notFound("This test checkout action")
        }
        return Pages.redirect(to: try await test.choose(choice, sessionID: id))
    }
}
