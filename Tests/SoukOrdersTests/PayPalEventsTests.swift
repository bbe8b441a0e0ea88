import Foundation
import SoukCore
@testable import SoukPayments
import Testing

@Suite("PayPal events")
struct PayPalEventsTests {
    func parse(_ type: String, _ resource: String) throws -> PaymentEvent {
        try PayPalEvents.parse(Data(#"{"id":"WH-1","event_type":"\#(type)","resource":\#(resource)}"#.utf8))
    }

    @Test("A completed capture is bound to its PayPal order and says what it took, in minor units")
    func capture() throws {
        let event = try parse(
            "PAYMENT.CAPTURE.COMPLETED",
            #"{"id":"CAP-1","status":"COMPLETED","amount":{"currency_code":"USD","value":"25.10"},"custom_id":"ord_1","supplementary_data":{"related_ids":{"order_id":"PP-ORDER-1"}}}"#)
        #expect(event.order == .session("PP-ORDER-1"))
        #expect(event.effect == .paid(Payment(id: "CAP-1", checkoutID: "PP-ORDER-1", amount: 2510, currency: "USD", claimedOrderID: "ord_1")))

        // Without supplementary data, the capture's `up` link names its order; JPY has no decimals.
        let linked = try parse(
            "PAYMENT.CAPTURE.COMPLETED",
            #"{"id":"CAP-2","amount":{"currency_code":"JPY","value":"500"},"custom_id":"ord_2","links":[{"rel":"up","href":"https://api.paypal.test/v2/checkout/orders/PP-2"}]}"#)
        #expect(linked.order == .session("PP-2"))
        #expect(linked.effect == .paid(Payment(id: "CAP-2", checkoutID: "PP-2", amount: 500, currency: "JPY", claimedOrderID: "ord_2")))

        // Neither: only what the capture claims, which matches no order's checkout.
        let bare = try parse("PAYMENT.CAPTURE.COMPLETED", #"{"id":"CAP-3","amount":{"currency_code":"USD","value":"1.5"},"custom_id":"ord_3"}"#)
        #expect(bare.order == .order("ord_3"))
        #expect(bare.effect == .paid(Payment(id: "CAP-3", checkoutID: nil, amount: 150, currency: "USD", claimedOrderID: "ord_3")))
        // An amount with more decimals than the currency has is no amount.
        let odd = try parse("PAYMENT.CAPTURE.COMPLETED", #"{"id":"CAP-4","amount":{"currency_code":"USD","value":"1.505"}}"#)
        guard case .paid(let payment)? = odd.effect else { Issue.record("\(odd)"); return }
        #expect(payment.amount == nil)
    }

    @Test("A refund belongs to the capture in its up link, whatever its custom_id claims; to custom_id without one")
    func refundUpLink() throws {
        let claimed = try parse(
            "PAYMENT.CAPTURE.REFUNDED",
            #"{"id":"RF-0","custom_id":"ord_claimed","amount":{"currency_code":"USD","value":"5.00"},"links":[{"rel":"up","href":"https://api.paypal.test/v2/payments/captures/CAP-8"}]}"#)
        #expect(claimed.order == .payment("CAP-8"))
        let unlinked = try parse(
            "PAYMENT.CAPTURE.REFUNDED", #"{"id":"RF-3","custom_id":"ord_7","amount":{"currency_code":"USD","value":"5.00"}}"#)
        #expect(unlinked.order == .order("ord_7"))
        let refund = try parse(
            "PAYMENT.CAPTURE.REFUNDED",
            #"{"id":"RF-1","amount":{"currency_code":"USD","value":"5.00"},"links":[{"rel":"up","href":"https://api.paypal.test/v2/payments/captures/CAP-9"}]}"#)
        #expect(refund.order == .payment("CAP-9"))
        let elsewhere = try parse(
            "PAYMENT.CAPTURE.REFUNDED",
            #"{"id":"RF-2","amount":{"currency_code":"USD","value":"5.00"},"links":[{"rel":"up","href":"https://api.paypal.test/v2/checkout/orders/PP-1"}]}"#)
        #expect(elsewhere.order == nil)
    }
}
