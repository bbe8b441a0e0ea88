import Foundation
import GRDB
@testable import SoukDatabase
import Testing

@Suite("Checkpoints beside the writer")
struct WALCheckpointsTests {
    static func database() throws -> AppDatabase {
        let database = try TestStore().database
        try database.writer.write { try $0.execute(sql: "CREATE TABLE scratch (id INTEGER PRIMARY KEY, data BLOB NOT NULL)") }
        return database
    }

    /// 4,000 commits of a 3 kB row each, with `tick` every 100.
    static func writeBurst(_ database: AppDatabase, tick: () async throws -> Void) async throws {
        let row = Data(repeating: 7, count: 3_000)
        for n in 1...4_000 {
            try await database.writer.write { try $0.execute(sql: "INSERT INTO scratch (data) VALUES (?)", arguments: [row]) }
            if n % 100 == 0 { try await tick() }
        }
    }

    static func walBytes(_ database: AppDatabase) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: database.path + "-wal")[.size] as? Int ?? 0
    }

    static func automaticPages(_ database: AppDatabase) throws -> Int? {
        try database.writer.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") }
    }

    @Test("While they run, the writer never checkpoints, yet the WAL stays small; afterwards it checkpoints for itself again")
    func checkpointsOffTheWriter() async throws {
        let database = try Self.database()
        let checkpoints = WALCheckpoints(database: database)
        try await checkpoints.start()
        #expect(try Self.automaticPages(database) == 0)

        var copied = 0
        try await Self.writeBurst(database) {
            let result = try #require(try await checkpoints.checkpointIfWritten(), "this process wrote since the last one")
            #expect(result.copiedPages == result.walPages, "a passive checkpoint with no reader copies every page")
            copied += result.copiedPages
        }
        #expect(copied > 4_000, "the checkpoints copied the burst back: \(copied) pages")
        // Each tick's checkpoint lets the writer start the WAL again: it holds about 100 commits.
        let walBytes = try Self.walBytes(database)
        #expect(walBytes < 4_000_000, "WAL of \(walBytes) bytes")
        // Nothing written since: nothing to do.
        let idle = try await checkpoints.checkpointIfWritten()
        #expect(idle == nil)

        try await checkpoints.stop()
        #expect(try Self.automaticPages(database) == WALCheckpoints.automaticPages)
    }

    @Test("Without them and with the writer's automatic checkpoints off, the same burst grows the WAL (the check above can fail)")
    func theSameBurstUnchecked() async throws {
        let database = try Self.database()
        try await database.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        try await Self.writeBurst(database) {}
        let walBytes = try Self.walBytes(database)
        #expect(walBytes > 12_000_000, "WAL of \(walBytes) bytes")
    }
}
