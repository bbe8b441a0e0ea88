import Foundation
import SoukCore
import Testing

/// The effect of a provider event on its order, decided without a database (issue 11).
@Suite("Decisions: provider events")
struct PaymentEventDecisionTests {
    typealias F = Fixtures

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var effect: PaymentEffect
        var facts: PaymentEventFacts
        var change: OrderChange
        var jobs: [String] = []
        var testDescription: String { name }
    }

    static let refundOf600 = try! RefundDecision.entry(
        refundID: "ref_new", order: F.order(.fulfilled), amount: 600, reason: nil, providerRefundID: "re_1",
        requestedBy: "provider")

    static let cases: [Case] = [
        Case(
            name: "a matching payment pays a created order and queues its fulfilment", effect: .paid(F.payment()),
            facts: .init(order: F.order(.created)),
            change: .pay(paymentID: "pi_1", holdStockAgain: false, countsAsSale: true), jobs: ["fulfil"]),
        Case(
            name: "a test order's payment is not a sale", effect: .paid(F.payment()),
            facts: .init(order: F.order(.created, provider: "test")),
            change: .pay(paymentID: "pi_1", holdStockAgain: false, countsAsSale: false), jobs: ["fulfil"]),
        Case(
            name: "duplicate: a second payment of a paid order changes nothing", effect: .paid(F.payment()),
            facts: .init(order: F.order(.paid)), change: .none(reason: "order ord_1 is paid")),
        Case(
            name: "duplicate: paid again once completed changes nothing", effect: .paid(F.payment()),
            facts: .init(order: F.order(.completed)), change: .none(reason: "order ord_1 is completed")),
        Case(
            name: "wrong amount: refused, never paid", effect: .paid(F.payment(amount: 999)),
            facts: .init(order: F.order(.created)),
            change: .refusePayment(
                F.payment(amount: 999), reason: "paid $9.99, but the order's total is $10.00")),
        Case(
            name: "wrong currency: refused", effect: .paid(F.payment(currency: "eur")), facts: .init(order: F.order(.created)),
            change: .refusePayment(F.payment(currency: "eur"), reason: "paid in EUR, but the order is in USD")),
        Case(
            name: "another checkout's payment: refused", effect: .paid(F.payment(checkout: "cs_other")),
            facts: .init(order: F.order(.created)),
            change: .refusePayment(
                F.payment(checkout: "cs_other"), reason: "paid through checkout cs_other, but the order's checkout is cs_1")),
        Case(
            name: "a payment refused before never pays later", effect: .paid(F.payment()),
            facts: .init(order: F.order(.created), paymentRefusedBefore: "an earlier reason"),
            change: .refusePayment(F.payment(), reason: "an earlier reason")),
        Case(
            name: "late payment, stock still there: paid, stock held again", effect: .paid(F.payment()),
            facts: .init(order: F.order(.expired), stockAvailableAgain: true),
            change: .pay(paymentID: "pi_1", holdStockAgain: true, countsAsSale: true), jobs: ["fulfil"]),
        Case(
            name: "late payment after a failure, stock there: paid", effect: .paid(F.payment()),
            facts: .init(order: F.order(.paymentFailed), stockAvailableAgain: true),
            change: .pay(paymentID: "pi_1", holdStockAgain: true, countsAsSale: true), jobs: ["fulfil"]),
        Case(
            name: "late payment, stock sold since: refunded automatically", effect: .paid(F.payment()),
            facts: .init(order: F.order(.expired), stockAvailableAgain: false),
            change: .refundLatePayment(paymentID: "pi_1"), jobs: ["auto_refund"]),
        Case(
            name: "pending on a created order: ask the provider from a job", effect: .pending,
            facts: .init(order: F.order(.created)), change: .awaitConfirmation, jobs: ["confirm_payment"]),
        Case(
            name: "out of order: pending after paid changes nothing", effect: .pending, facts: .init(order: F.order(.paid)),
            change: .none(reason: "order ord_1 is paid")),
        Case(
            name: "failure of a created order puts its stock back", effect: .failed, facts: .init(order: F.order(.created)),
            change: .move(to: .paymentFailed, releaseStock: true)),
        Case(
            name: "out of order: a failure after the payment changes nothing", effect: .failed,
            facts: .init(order: F.order(.fulfilled)), change: .none(reason: "order ord_1 is fulfilled")),
        Case(
            name: "expiry of a created order puts its stock back", effect: .expired, facts: .init(order: F.order(.created)),
            change: .move(to: .expired, releaseStock: true)),
        Case(
            name: "out of order: an expiry after the payment changes nothing", effect: .expired,
            facts: .init(order: F.order(.paid)), change: .none(reason: "order ord_1 is paid")),
        Case(
            name: "partial refund of 600 of 1000", effect: .refunded(totalRefunded: 600, refundID: "re_1"),
            facts: .init(order: F.order(.fulfilled)), change: .refund(refundOf600)),
        Case(
            name: "a refund already recorded by its id changes nothing", effect: .refunded(totalRefunded: 600, refundID: "re_1"),
            facts: .init(order: F.order(.fulfilled), refundRecorded: true), change: .none(reason: "refund already recorded")),
        Case(
            name: "a cumulative total no higher than what is recorded changes nothing",
            effect: .refunded(totalRefunded: 600, refundID: nil), facts: .init(order: F.order(.partiallyRefunded, refunded: 600)),
            change: .none(reason: "refund already recorded")),
        Case(
            name: "a refund of an unpaid order is refused", effect: .refunded(totalRefunded: 1000, refundID: "re_2"),
            facts: .init(order: F.order(.created)), change: .none(reason: "order ord_1 is created")),
        Case(
            name: "a dispute opens on a fulfilled order", effect: .disputeOpened, facts: .init(order: F.order(.fulfilled)),
            change: .openDispute(from: .fulfilled)),
        Case(
            name: "a dispute cannot open on an unpaid order", effect: .disputeOpened, facts: .init(order: F.order(.created)),
            change: .none(reason: "order ord_1 is created")),
        Case(
            name: "a won dispute returns to where it was", effect: .disputeClosed(won: true),
            facts: .init(order: F.order(.disputed), statusBeforeDispute: .completed), change: .closeDispute(restore: .completed)),
        Case(
            name: "a won dispute of an order never fulfilled queues its fulfilment again", effect: .disputeClosed(won: true),
            facts: .init(order: F.order(.disputed), statusBeforeDispute: .paid), change: .closeDispute(restore: .paid),
            jobs: ["fulfil"]),
        Case(
            name: "a dispute closing on an undisputed order changes nothing", effect: .disputeClosed(won: false),
            facts: .init(order: F.order(.fulfilled)), change: .none(reason: "order ord_1 is fulfilled")),
    ]

    @Test("Each event's change and jobs", arguments: cases)
    func decide(_ c: Case) throws {
        let plan = try PaymentEventDecision.decide(c.effect, facts: c.facts)
        #expect(plan.change == c.change)
        #expect(plan.jobs.map(\.kind) == c.jobs)
        // Only a payment is news in itself (refunds carry their notice in the refund entry).
        if case .pay = c.change {
            #expect(plan.notices == PaidOrderNotices.notices(for: c.facts.order))
        } else {
            #expect(plan.notices.isEmpty)
        }
    }

    @Test("A lost dispute refunds what is left, revoking access; the buyer is told")
    func lostDispute() throws {
        let plan = try PaymentEventDecision.decide(
            .disputeClosed(won: false), facts: .init(order: F.order(.disputed, refunded: 300), newRefundID: "ref_9"))
        guard case .refund(let entry) = plan.change else { Issue.record("expected a refund, got \(plan.change)"); return }
        #expect(entry.amount == 700 && entry.status == .refunded && entry.refundedAmount == 1000 && entry.revokesAccess)
        #expect(entry.requestedBy == "dispute" && entry.reason == "dispute lost" && entry.id == "ref_9")
        #expect(entry.notice.userID == "usr_buyer" && entry.notice.dedupeKey == "refund:ref_9")
        #expect(entry.notice.body == "$7.00 refunded; access to this order's products has ended.")
        #expect(plan.outcome(orderID: "ord_1") == .applied(orderID: "ord_1", status: .refunded))
    }

    @Test("Refund totals above the order's are capped at the total")
    func refundCapped() throws {
        let plan = try PaymentEventDecision.decide(
            .refunded(totalRefunded: 5000, refundID: "re_1"), facts: .init(order: F.order(.completed)))
        guard case .refund(let entry) = plan.change else { Issue.record("expected a refund"); return }
        #expect(entry.amount == 1000 && entry.status == .refunded)
    }

    @Test("Jobs carry the order and their dedupe keys: one fulfilment, one automatic refund per order")
    func jobKeys() throws {
        let paid = try PaymentEventDecision.decide(.paid(F.payment()), facts: .init(order: F.order(.created)))
        #expect(paid.jobs.first?.dedupeKey == "fulfil:ord_1")
        #expect(paid.jobs.first?.payloadJSON == #"{"order_id":"ord_1"}"#)
        let late = try PaymentEventDecision.decide(
            .paid(F.payment()), facts: .init(order: F.order(.expired), stockAvailableAgain: false))
        #expect(late.jobs.first?.dedupeKey == "auto_refund:ord_1")
        #expect(late.outcome(orderID: "ord_1") == .refundQueued(orderID: "ord_1"))
        // A won dispute's fulfilment is a new job: the first one's key is spent.
        let won = try PaymentEventDecision.decide(
            .disputeClosed(won: true), facts: .init(order: F.order(.disputed), statusBeforeDispute: .paid))
        #expect(won.jobs.first?.dedupeKey == nil)
    }

    @Test("A free order needs no checkout: a zero payment without one pays it")
    func freeOrder() throws {
        let order = F.order(.created, total: 0, session: nil, items: [F.item("oi_1", unit: 0)])
        let plan = try PaymentEventDecision.decide(
            .paid(Payment(id: "free_1", checkoutID: nil, amount: 0, currency: "USD")), facts: .init(order: order))
        #expect(plan.change == .pay(paymentID: "free_1", holdStockAgain: false, countsAsSale: true))
    }

    @Test("Every change an event can make is one the lifecycle allows")
    func lifecycle() throws {
        let effects: [PaymentEffect] = [
            .paid(F.payment()), .pending, .failed, .expired, .refunded(totalRefunded: 400, refundID: nil),
            .refunded(totalRefunded: 1000, refundID: nil), .disputeOpened, .disputeClosed(won: true),
            .disputeClosed(won: false),
        ]
        for status in OrderStatus.allCases {
            for effect in effects {
                let refunded = status == .partiallyRefunded ? 200 : 0
                let facts = PaymentEventFacts(order: F.order(status, refunded: refunded), statusBeforeDispute: .fulfilled)
                guard let plan = try? PaymentEventDecision.decide(effect, facts: facts) else { continue }
                let to: OrderStatus? =
                    switch plan.change {
                    case .pay: .paid
                    case .move(let to, _): to
                    case .refund(let entry): entry.status
                    case .openDispute: .disputed
                    case .closeDispute(let to): to
                    case .none, .awaitConfirmation, .refusePayment, .refundLatePayment: nil
                    }
                if let to { #expect(OrderLifecycle.allows(status, to), "\(effect) moved a \(status) order to \(to)") }
            }
        }
    }
}
