import Foundation
import Hummingbird
import SoukCore
import SoukOrders
import SoukPayments

/// `POST /webhooks/{stripe,paypal,test}`: providers' events. The raw body is kept byte for byte
/// (signatures cover it); 200 once verified and recorded, 400 for a bad signature.
struct WebhookRoutes: Sendable {
    let services: AppServices
    /// Provider events are small; Stripe's largest are a few tens of kB.
    static let maxBodyBytes = 512 * 1024

    func register(on router: Router<SoukRequestContext>) {
        router.post("webhooks/:provider", use: receive)
    }

    struct Answer: Encodable, Sendable {
        var received = true
        /// `applied`, `duplicate`, `ignored`, `refund_queued` or `mismatched`.
        var outcome: String
    }

    @Sendable func receive(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let provider = try context.parameters.require("provider")
        guard CheckoutRules.providers.contains(provider) else { throw SoukError.notFound("The webhook endpoint \(provider)") }
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let outcome = try await services.paymentEvents.receiveWebhook(
            provider: provider, WebhookRequest(headers: headers, body: Data(buffer: body)))
        let label: String =
            switch outcome {
            case .applied: "applied"
            case .duplicate: "duplicate"
            case .ignored: "ignored"
            case .refundQueued: "refund_queued"
            // Answered 2xx like any recorded event: the provider must not retry it.
            case .mismatched: "mismatched"
            }
        return try JSONResponse(body: Answer(outcome: label)).response(from: request, context: context)
    }
}
