import Logging
import ServiceLifecycle
import SoukDatabase

/// Beside the server (a Service): every `interval`, the sales recorded meanwhile reach search and
/// the kept pages in one change (`AppDatabase.settleSales`), and once more when the server stops;
/// the sellers' shares of orders refunded or disputed meanwhile are worked out and kept
/// (`AppDatabase.settleMoneyShares`).
/// A crowd's pages stay kept through a burst of payments; the best-selling order and the counts
/// shown lag the sales by `interval` at most. Sales recorded while no server ran (or by a
/// crash) are settled at the first tick.
final class SalesSettler: Service, Sendable {
    private let database: AppDatabase
    private let interval: Duration
    private let logger: Logger

    init(database: AppDatabase, interval: Duration = .seconds(2), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    func settle() async {
        do {
            try await database.settleSales()
        } catch {
            logger.warning(
                "sales counts: handing new sales to search failed; they stay noted for the next try",
                metadata: ["error": "\(error)"])
        }
        do {
            // A batch per transaction, so the writer is never held long; all of them each tick.
            while try await database.settleMoneyShares() > 0 {}
        } catch {
            logger.warning(
                "seller balances: working out the shares of refunded or disputed orders failed; balances work them out when read until the next try",
                metadata: ["error": "\(error)"])
        }
    }

    func run() async throws {
        await repeatUntilShutdown(every: interval) { await settle() }
    }
}
