import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukHTTP
import SoukRuntime

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the store (web pages, API, webhooks) until SIGTERM or SIGINT.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let settings = try global.settings()
        let level = Logger.Level(rawValue: settings.log.level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "souk")
        let (runtime, data) = try await global.runtime(logger: logger, creating: true)
        let database = runtime.database
        // Background jobs run beside the HTTP server, on the same runtime, and stop gracefully with it.
        let app = try await reportingErrors { try await buildApplication(runtime, services: [runtime.jobRunner()]) }
        // Build the in-memory search index while already answering (FTS5 serves searches until
        // it is ready): a large catalog does not delay the start.
        database.warmSearchInBackground { result in
            switch result {
            case .success(let ready):
                logger.notice(
                    "search ready",
                    metadata: [
                        "engine": "memory", "seconds": "\(ready.took)", "products": "\(ready.products)",
                        "index_mb": "\(ready.bytes / 1_000_000)",
                    ])
            case .failure(let error):
                logger.error(
                    "building the search index failed; searches use FTS5 until the next search rebuilds it",
                    metadata: ["error": "\(error)"])
            }
        }
        logger.info(
            "souk serving",
            metadata: [
                "url": "\(settings.publicBaseURL)", "data_dir": "\(data.path)",
                "payments": "\(settings.defaultPaymentProvider)",
                "test_payments": "\(settings.offersTestPayments ? "offered (TEST MODE)" : "off")",
            ])
        for warning in ConfigLoader.warnings(settings) { logger.warning("\(warning)") }
        // Finishes in-flight requests on SIGTERM/SIGINT before exiting.
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        logger.info("souk stopped")
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Create or upgrade the database schema, then list the applied migrations.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (_, data, database) = try global.open(creating: true)
        print("database \(data.databasePath) is up to date; applied migrations:")
        for migration in try database.appliedMigrations() { print("  \(migration)") }
    }
}
