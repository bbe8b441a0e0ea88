import Foundation
import Logging
import SoukCore
import SoukDatabase
import SoukMail

/// The delivery path's background work: `fulfil` (keys, notices, the receipt job), `email`
/// (composed and sent; a receipt accepted by the mail server completes its order) and
/// `file_update_notice` (every owner of a product hears of a new file version). Each handler is
/// idempotent: a job run twice changes nothing more and sends nothing twice.
public struct DeliveryJobs: Sendable {
    let database: AppDatabase
    let mailer: any Mailer
    let composer: MailComposer
    let logger: Logger

    public init(database: AppDatabase, mailer: any Mailer, composer: MailComposer, logger: Logger = Logger(label: "souk.delivery")) {
        self.database = database
        self.mailer = mailer
        self.composer = composer
        self.logger = logger
    }

    public func register(in registry: inout JobRegistry) {
        registry.register(OrderJobKind.fulfil) { job in try await fulfil(job.decodePayload(OrderJobPayload.self).orderID) }
        registry.register(DeliveryJobKind.email) { job in try await email(job.decodePayload(MailJob.self)) }
        registry.register(DeliveryJobKind.fileUpdateNotice) { job in
            try await fileUpdate(job.decodePayload(FileUpdatePayload.self).fileID)
        }
    }

    /// Issues keys, marks the order fulfilled and queues its receipt, in one transaction.
    func fulfil(_ orderID: String) async throws {
        let queue = JobQueue(database: database)
        let receipt = try JobRequest(
            kind: DeliveryJobKind.email, payload: MailJob(kind: .receipt, orderID: orderID), dedupeKey: "receipt:\(orderID)")
        let result = try await database.fulfil(orderID: orderID, followUps: [receipt])
        guard let result else { return }
        if result.isNew {
            logger.info(
                "order fulfilled", metadata: ["order": "\(orderID)", "license_keys": "\(result.issuedKeys.count)"])
        } else if result.order.status == .fulfilled, try await queue.job(dedupeKey: "receipt:\(orderID)")?.state == .done,
            try await database.completeOrder(id: orderID)
        {
            // Fulfilled again after a won dispute: its receipt went out back then.
            logger.info("order completed", metadata: ["order": "\(orderID)"])
        }
    }

    func email(_ job: MailJob) async throws {
        guard let message = try await composer.compose(job) else { return }
        do {
            try await mailer.send(message)
        } catch {
            logger.warning(
                "mail not accepted; the job will retry",
                metadata: ["to": "\(message.to)", "subject": "\(message.subject)", "error": "\(error)"])
            throw error
        }
        logger.info("mail sent", metadata: ["to": "\(message.to)", "message_id": "\(message.messageID)"])
        if job.kind == .receipt, let orderID = job.orderID, try await database.completeOrder(id: orderID) {
            logger.info("order completed", metadata: ["order": "\(orderID)"])
        }
    }

    /// One in-app notice and one e-mail per owner of the file's product.
    func fileUpdate(_ fileID: String) async throws {
        guard let file = try await database.file(id: fileID), let product = try await database.productIncludingDeleted(id: file.productID)
        else { return }
        let owners = try await database.owners(productID: product.id)
        let queue = JobQueue(database: database)
        for owner in owners {
            // Its e-mail is the `fileUpdate` one below (it carries a sign-in link to the library).
            try await database.notify(
                Notice(
                    userID: owner.id, type: .fileUpdated, title: "New version of \(product.title)",
                    body: "\(file.name) version \(file.version) is ready in your library.", url: "/library",
                    dedupeKey: "file_update:\(fileID):\(owner.id)", email: false))
            try await queue.enqueue(
                kind: DeliveryJobKind.email, payload: MailJob(kind: .fileUpdate, userID: owner.id, fileID: fileID),
                dedupeKey: "file_update_email:\(fileID):\(owner.id)")
        }
        logger.info(
            "new file version announced", metadata: ["product": "\(product.id)", "file": "\(fileID)", "owners": "\(owners.count)"])
    }
}

/// Payload of `file_update_notice` jobs.
public struct FileUpdatePayload: Codable, Sendable, Equatable {
    public var fileID: String
    public init(fileID: String) { self.fileID = fileID }
    enum CodingKeys: String, CodingKey { case fileID = "file_id" }
}
