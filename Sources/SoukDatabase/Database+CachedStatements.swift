import Foundation
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

extension AppDatabase {
    /// `values` as a JSON array, to bind as one argument read with `json_each(?)`: a statement
    /// that takes a list of any length compiles once (and its text stays in the statement cache).
    static func jsonList(_ values: [some Encodable]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }
}
