import Foundation
import Logging
import SoukCore
import SoukDatabase

/// Messages about an order between its buyer and its sellers. The routes, the order page and the
/// admin pages all read and write threads here, so the rule "parties write, an admin may read and
/// that reading is audited" has one implementation.
public struct OrderMessageService: Sendable {
    let database: AppDatabase
    let logger: Logger

    public init(database: AppDatabase, logger: Logger = Logger(label: "souk.orders")) {
        self.database = database
        self.logger = logger
    }

    /// The thread, oldest first. Its parties read freely; an admin who is not a party may read it
    /// (a dispute may need it), and each such reading is written to the admin audit trail and the
    /// log. Anyone else is told the order does not exist (`notFound`).
    public func thread(of order: Order, reader: User) async throws -> [OrderMessage] {
        if OrderMessageRules.role(of: reader, in: order) == nil {
            guard reader.role == .admin else { throw SoukError.notFound("The order \(order.id)") }
            try await database.recordAdminAudit(adminID: reader.id, action: "order_messages.read", subjectID: order.id)
            logger.notice("an admin read an order's messages", metadata: ["admin": "\(reader.id)", "order": "\(order.id)"])
        }
        return try await database.orderMessages(orderID: order.id)
    }

    /// Posts a message by a party of the order and tells the other side, in one transaction.
    /// Throws `forbidden` for an admin who is not a party, `notFound` for anyone else, and
    /// `validationFailed` naming `body` for an empty or overlong text.
    public func post(in order: Order, author: User, body raw: String?) async throws -> OrderMessage {
        guard let role = OrderMessageRules.role(of: author, in: order) else {
            guard author.role == .admin else { throw SoukError.notFound("The order \(order.id)") }
            throw SoukError(.forbidden, "Admins read an order's messages but do not write in them; contact the parties directly.")
        }
        let body = try OrderMessageRules.body(raw)
        let message = try await database.postOrderMessage(order, author: author, role: role, body: body)
        logger.info("order message posted", metadata: ["order": "\(order.id)", "message": "\(message.id)"])
        return message
    }
}
