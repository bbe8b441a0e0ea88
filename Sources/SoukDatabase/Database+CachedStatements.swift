import GRDB

extension Database {
    /// Runs `sql` as a statement this connection compiled before (GRDB keeps one per SQL text).
    /// For the payment path, where a burst of webhooks is serialised on the one writer: compiling
    /// each statement again ran SQLite's parser and GRDB's authorizer (once per column read) for
    /// every webhook, about a tenth of its time.
    func executeCached(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
