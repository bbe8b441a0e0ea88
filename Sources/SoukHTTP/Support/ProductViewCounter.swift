import Foundation
import Logging
import ServiceLifecycle
import SoukCore
import SoukDatabase
import Synchronization

/// Counts product page views in memory and writes them in one transaction every few seconds,
/// so a busy product page costs no database write per view (and no wait: counting takes a
/// lock for an increment). It runs beside the server (a Service) and writes what it holds when
/// the server stops; a crash loses at most one interval's views, which only the seller's
/// conversion figure reads.
final class ProductViewCounter: Service, Sendable {
    private let database: AppDatabase
    private let interval: Duration
    private let logger: Logger
    private struct Key: Hashable {
        let productID: String
        /// Days since 1970-01-01 (UTC).
        let day: Int
    }
    private let pending = Mutex<[Key: Int]>([:])

    init(database: AppDatabase, interval: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    /// Views by people and browsers, not crawlers or link previews (which also fetch pages).
    static func counts(userAgent: String?) -> Bool {
        guard let agent = userAgent?.lowercased(), !agent.isEmpty else { return false }
        return !["bot", "crawl", "spider", "slurp", "preview", "curl/", "wget/", "python-requests"]
            .contains { agent.contains($0) }
    }

    func record(productID: String, at date: Date) {
        let key = Key(productID: productID, day: Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
        pending.withLock { $0[key, default: 0] += 1 }
    }

    /// Writes what was counted (the dashboard calls this before it reads, so a seller sees
    /// every view so far).
    func flush() async {
        let batch = pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
        guard !batch.isEmpty else { return }
        let counts = batch.map { key, views in
            ProductViewCount(
                productID: key.productID, day: Self.day(Date(timeIntervalSince1970: Double(key.day) * 86_400)), views: views)
        }
        do {
            try await database.addProductViews(counts)
        } catch {
            // Kept for the next try: views are only counted, never worth failing a page for.
            pending.withLock { pending in
                for (key, views) in batch { pending[key, default: 0] += views }
            }
            logger.warning(
                "product views: writing \(counts.count) counts failed; kept for the next try",
                metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        await repeatUntilShutdown(every: interval) { await flush() }
    }

    static func day(_ date: Date) -> String {
        String(Timestamp.rfc3339(date).prefix(10))
    }
}
