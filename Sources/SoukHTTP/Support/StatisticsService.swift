import Logging
import ServiceLifecycle
import SoukDatabase

/// Beside the server (a Service): SQLite's planner statistics made again when a table has
/// doubled since they were made (`PlannerStatistics` says why), looked at every `interval`,
/// the first time right after start.
final class StatisticsService: Service, Sendable {
    private let statistics: PlannerStatistics
    private let interval: Duration
    private let logger: Logger

    init(database: AppDatabase, interval: Duration = .seconds(3600), logger: Logger) {
        self.statistics = PlannerStatistics(database: database)
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await refresh()
        await repeatUntilShutdown(every: interval) { await refresh() }
    }

    private func refresh() async {
        let started = ContinuousClock.now
        do {
            if try await statistics.refreshIfStale() {
                logger.notice(
                    "query planner statistics made again (ANALYZE)", metadata: ["took": "\(ContinuousClock.now - started)"])
            }
        } catch {
            logger.warning(
                "query planner statistics not made again; queries keep the old plans until the next try",
                metadata: ["error": "\(error)"])
        }
    }
}
