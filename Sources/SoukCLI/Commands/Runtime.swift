import ArgumentParser
import Foundation
import SoukCore
import Logging
import SoukDatabase
import SoukRuntime

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the TOML configuration file (default: $SOUK_CONFIG, else none).")
    var config: String?

    /// Loads the settings; a bad file or value prints the reason and exits with status 2.
    func settings() throws -> Settings {
        let environment = ProcessInfo.processInfo.environment
        do {
            return try ConfigLoader.load(file: config ?? environment["SOUK_CONFIG"], environment: environment)
        } catch {
            printError("configuration error:\n\(error.message)")
            throw ExitCode(2)
        }
    }

    /// Opens the data folder and database the settings point at. Problems become exit status 1
    /// with a sentence for the operator, never a stack trace. Only `serve` and `migrate` create a
    /// store (`creating`): any other command run from the wrong folder says where it looked
    /// instead of leaving an empty `./souk-data` behind.
    func open(creating: Bool = false) throws -> (Settings, DataDirectory, AppDatabase) {
        let settings = try settings()
        let data = DataDirectory(settings.storage.dataDir)
        guard creating || FileManager.default.fileExists(atPath: data.databasePath) else {
            let absolute = URL(fileURLWithPath: data.path).standardizedFileURL.path
            printError(
                "there is no store at \(absolute) (no souk.db there). Run this where `souk serve` keeps its data, "
                    + "point to it with --config or SOUK_STORAGE_DATA_DIR, or create a store with `souk migrate`.")
            throw ExitCode.failure
        }
        do {
            _ = try data.prepare()
            return (
                settings, data,
                try data.openDatabase(searchEngine: SearchEngineKind(rawValue: settings.search.engine) ?? .memory)
            )
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

extension GlobalOptions {
    /// Opens the store and builds its one runtime (providers, mailer, services, job registry),
    /// as `souk serve` does, for the commands that act like the store: `jobs run`, `order refund`.
    func runtime(logger: Logger = Logger(label: "souk"), creating: Bool = false) async throws
        -> (SoukRuntime, DataDirectory)
    {
        let (settings, data, database) = try open(creating: creating)
        let secretKey: [UInt8]
        do { secretKey = try data.prepare() } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let runtime = await SoukRuntime(
            settings: settings, database: database, secretKey: secretKey, logger: logger, themeDirectory: data.themePath)
        return (runtime, data)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("souk: \(message)\n".utf8))
}

/// Runs an operation, turning Souk's errors into a message and exit status 1.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as SoukError {
        printError(error.detail)
        throw ExitCode.failure
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("\(error)")
        throw ExitCode.failure
    }
}

/// Reads a password: from standard input when it is not a terminal (scripts, tests), else a
/// prompt that does not echo, asked twice.
func readPassword(prompt: String) throws -> String {
    if isatty(STDIN_FILENO) == 0 {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            printError("expected the password on standard input")
            throw ExitCode.failure
        }
        return line
    }
    guard let first = getpass("\(prompt): ").map({ String(cString: $0) }),
        let second = getpass("Repeat it: ").map({ String(cString: $0) })
    else { throw ExitCode.failure }
    guard first == second else {
        printError("the passwords differ")
        throw ExitCode.failure
    }
    return first
}

/// Prints rows as aligned columns, or as JSON lines of objects for `--json`.
enum TableOutput {
    static func text(headers: [String], rows: [[String]]) -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }

    static func json(object: [String: JSONValue]) -> String {
        JSONValue.object(object).prettyText
    }

    static func json(_ objects: [[String: JSONValue]]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = (try? encoder.encode(objects)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
