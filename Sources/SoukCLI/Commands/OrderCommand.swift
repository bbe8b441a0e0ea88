import ArgumentParser
import Foundation
import SoukCore
import SoukDatabase
import SoukOrders
import SoukRuntime

extension OrderStatus: ExpressibleByArgument {}

struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "Look up orders and refund them.", subcommands: [List.self, Show.self, Refund.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List orders, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this status (created, paid, fulfilled, completed, expired, refunded…).") var status: OrderStatus?
        @Option(help: "Only orders of the buyer with this e-mail.") var buyer: String?
        @Option(help: "Only orders with lines of the seller with this e-mail.") var seller: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (_, _, database) = try global.open()
            let orders = try await reportingErrors {
                let admin = OrderAdmin(database: database)
                let scope: AppDatabase.OrderScope =
                    if let buyer { .buyer(try await admin.userID(email: buyer)) } else if let seller {
                        .seller(try await admin.userID(email: seller))
                    } else { .all }
                return try await database.orders(scope, status: status, limit: limit)
            }
            print(OrderAdmin.render(orders, json: json))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one order: lines, money, payment, refunds, events.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order: its number (1042 or #1042) or id (ord_…).") var id: String
        @Flag(help: "Print JSON instead of text.") var json = false

        func run() async throws {
            let (_, _, database) = try global.open()
            let text = try await reportingErrors { try await OrderAdmin(database: database).describe(id, json: json) }
            print(text)
        }
    }

    struct Refund: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refund an order through its payment provider (all that is left, or --amount).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The order: its number (1042 or #1042) or id (ord_…).") var id: String
        @Option(help: "Amount in minor units (cents); default: everything not yet refunded.") var amount: Int?
        @Option(help: "Why (kept with the refund).") var reason: String?

        func run() async throws {
            let (runtime, _) = try await global.runtime()
            let order = try await reportingErrors {
                let named = try await OrderAdmin(database: runtime.database).order(id)
                return try await runtime.refunds.refund(orderID: named.id, amount: amount, reason: reason, by: .operatorCLI)
            }
            let money = { (minor: Int) in Currency.display(minor, currency: order.currency) }
            print(
                "Refunded \(money(order.refundedAmount)) of \(money(order.total)) on order \(order.displayNumber) (\(order.id)); "
                    + "it is now \(order.status.rawValue).")
        }
    }
}

struct PayoutsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payouts",
        abstract: "What the store owes each seller: their share of paid orders after fees and refunds.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let (_, _, database) = try global.open()
        let balances = try await reportingErrors { try await database.sellerBalances() }
        print(OrderAdmin.render(balances, json: json))
    }
}

/// The operator's order views as plain functions (the commands and tests share them).
struct OrderAdmin: Sendable {
    let database: AppDatabase

    /// The order a person names (number or id), or `notFound` saying what was looked for.
    func order(_ reference: String) async throws -> Order {
        guard let order = try await database.order(reference: reference) else {
            throw SoukError(.notFound, "There is no order \(reference) (give its number, like 1042, or its id, ord_…).")
        }
        return order
    }

    func userID(email: String) async throws -> String {
        guard let record = try await database.user(email: email.lowercased()) else {
            throw SoukError(.notFound, "There is no account with the e-mail address \(email).")
        }
        return record.id
    }

    func describe(_ reference: String, json: Bool) async throws -> String {
        let order = try await order(reference)
        let refunds = try await database.refunds(orderID: order.id)
        let grants = try await database.grants(orderID: order.id)
        let mismatches = try await database.paymentMismatches(orderID: order.id)
        if json {
            var object = Self.object(order)
            object["refunds"] = .array(
                refunds.map {
                    .object([
                        "id": .string($0.id), "amount": .number(Double($0.amount)), "reason": $0.reason.map(JSONValue.string) ?? .null,
                        "provider_refund_id": $0.providerRefundID.map(JSONValue.string) ?? .null,
                        "requested_by": .string($0.requestedBy), "created_at": .string(Timestamp.rfc3339($0.createdAt)),
                    ])
                })
            object["grants"] = .array(
                grants.map {
                    .object([
                        "id": .string($0.id), "product_id": .string($0.productID), "active": .bool($0.isActive),
                    ])
                })
            object["payment_mismatches"] = .array(
                mismatches.map {
                    .object([
                        "id": .string($0.id), "provider": .string($0.provider), "event_id": .string($0.eventID),
                        "payment_id": .string($0.payment.id),
                        "checkout_id": $0.payment.checkoutID.map(JSONValue.string) ?? .null,
                        "amount": $0.payment.amount.map { .number(Double($0)) } ?? .null,
                        "currency": $0.payment.currency.map(JSONValue.string) ?? .null,
                        "reason": .string($0.reason), "refund_state": .string($0.refundState.rawValue),
                        "refund_id": $0.refundID.map(JSONValue.string) ?? .null,
                        "last_error": $0.lastError.map(JSONValue.string) ?? .null,
                        "created_at": .string(Timestamp.rfc3339($0.createdAt)),
                    ])
                })
            return TableOutput.json(object: object)
        }
        func money(_ minor: Int) -> String { Currency.display(minor, currency: order.currency) }
        var lines = [
            "order     \(order.displayNumber) (\(order.id))",
            "status    \(order.status.rawValue)" + (order.isTest ? "  TEST ORDER (test provider: no money moved, not in payouts)" : ""),
            "buyer     \(order.buyerEmail) (\(order.buyerID))",
            "total     \(money(order.total))" + (order.refundedAmount > 0 ? ", refunded \(money(order.refundedAmount))" : ""),
            "provider  \(order.provider)" + (order.providerSessionID.map { " session \($0)" } ?? "")
                + (order.providerPaymentID.map { " payment \($0)" } ?? ""),
            "created   \(Timestamp.rfc3339(order.createdAt))" + (order.paidAt.map { ", paid \(Timestamp.rfc3339($0))" } ?? ""),
            "",
        ]
        lines.append(
            TableOutput.text(
                headers: ["LINE", "PRODUCT", "TITLE", "QTY", "AMOUNT", "FEE", "SELLER SHARE", "SELLER"],
                rows: order.items.map {
                    [
                        $0.id, $0.productID, String($0.title.prefix(40)), "\($0.quantity)", money($0.amount), money($0.feeAmount),
                        money($0.sellerAmount), $0.sellerID,
                    ]
                }))
        if !refunds.isEmpty {
            lines.append("")
            lines.append(
                TableOutput.text(
                    headers: ["REFUND", "AMOUNT", "BY", "PROVIDER REFUND", "REASON"],
                    rows: refunds.map { [$0.id, money($0.amount), $0.requestedBy, $0.providerRefundID ?? "", $0.reason ?? ""] }))
        }
        if !mismatches.isEmpty {
            lines.append("")
            lines.append("PAYMENTS THAT DID NOT MATCH THIS ORDER (nothing granted; refunded automatically):")
            lines.append(
                TableOutput.text(
                    headers: ["MISMATCH", "PROVIDER", "PAYMENT", "AMOUNT", "REFUND", "REASON"],
                    rows: mismatches.map { mismatch in
                        [
                            mismatch.id, mismatch.provider, mismatch.payment.id,
                            mismatch.payment.amount.map { Currency.display($0, currency: mismatch.payment.currency ?? order.currency) }
                                ?? "?",
                            mismatch.refundState.rawValue + (mismatch.refundID.map { " \($0)" } ?? "")
                                + (mismatch.lastError.map { ": \($0)" } ?? ""),
                            mismatch.reason,
                        ]
                    }))
        }
        lines.append("")
        lines.append("access    \(grants.filter(\.isActive).count) active grant(s), \(grants.filter { !$0.isActive }.count) revoked")
        return lines.joined(separator: "\n")
    }

    static func object(_ order: Order) -> [String: JSONValue] {
        [
            "id": .string(order.id), "number": .number(Double(order.number)), "status": .string(order.status.rawValue), "buyer_id": .string(order.buyerID),
            "buyer_email": .string(order.buyerEmail), "total": .number(Double(order.total)),
            "refunded_amount": .number(Double(order.refundedAmount)), "currency": .string(order.currency),
            "provider": .string(order.provider), "test": .bool(order.isTest),
            "provider_session_id": order.providerSessionID.map(JSONValue.string) ?? .null,
            "provider_payment_id": order.providerPaymentID.map(JSONValue.string) ?? .null,
            "created_at": .string(Timestamp.rfc3339(order.createdAt)),
            "paid_at": order.paidAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "items": .array(
                order.items.map {
                    .object([
                        "id": .string($0.id), "product_id": .string($0.productID), "seller_id": .string($0.sellerID),
                        "title": .string($0.title), "quantity": .number(Double($0.quantity)),
                        "amount": .number(Double($0.amount)), "fee_amount": .number(Double($0.feeAmount)),
                        "seller_amount": .number(Double($0.sellerAmount)),
                    ])
                }),
        ]
    }

    static func render(_ orders: [Order], json: Bool) -> String {
        if json { return TableOutput.json(orders.map(object)) }
        return TableOutput.text(
            headers: ["NUMBER", "ID", "STATUS", "BUYER", "TOTAL", "PROVIDER", "CREATED", "ITEMS"],
            rows: orders.map { order in
                [
                    order.displayNumber, order.id, order.status.rawValue, order.buyerEmail, Currency.display(order.total, currency: order.currency),
                    order.isTest ? "test (TEST ORDER)" : order.provider,
                    Timestamp.rfc3339(order.createdAt), String(order.items.map(\.title).joined(separator: ", ").prefix(50)),
                ]
            })
    }

    static func render(_ balances: [SellerBalance], json: Bool) -> String {
        if json {
            return TableOutput.json(
                balances.map {
                    [
                        "seller_id": .string($0.sellerID), "seller_name": .string($0.sellerName),
                        "seller_email": .string($0.sellerEmail), "currency": .string($0.currency),
                        "gross": .number(Double($0.gross)), "fees": .number(Double($0.fees)),
                        "refunds": .number(Double($0.refunds)), "owed": .number(Double($0.owed)),
                        "on_hold": .number(Double($0.onHold)),
                    ]
                })
        }
        if balances.isEmpty { return "no paid orders yet: nothing is owed to any seller (test orders are never counted)" }
        return TableOutput.text(
            headers: ["SELLER", "E-MAIL", "CURRENCY", "GROSS", "FEES", "REFUNDS", "OWED", "ON HOLD (DISPUTES)"],
            rows: balances.map {
                [
                    $0.sellerName, $0.sellerEmail, $0.currency, Currency.display($0.gross, currency: $0.currency),
                    Currency.display($0.fees, currency: $0.currency), Currency.display($0.refunds, currency: $0.currency),
                    Currency.display($0.owed, currency: $0.currency), Currency.display($0.onHold, currency: $0.currency),
                ]
            }) + "\ntest orders (test provider) moved no money and are not counted"
    }
}
