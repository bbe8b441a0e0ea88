import ArgumentParser
import Foundation

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check or print the configuration.",
        subcommands: [Check.self, Dump.self, Example.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration file and environment; exit 2 naming the bad key if any.")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            let settings = try global.settings()
            for warning in ConfigLoader.warnings(settings) { printError("warning: \(warning)") }
            for name in ConfigLoader.unknownEnvironmentVariables(ProcessInfo.processInfo.environment) {
                printError("warning: the environment variable \(name) is not a configuration key (typo?)")
            }
            print("configuration OK")
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration as TOML, secrets redacted.")
        @OptionGroup var global: GlobalOptions
        func run() async throws {
            print(ConfigRendering.dump(try global.settings()), terminator: "")
        }
    }

    struct Example: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every key with its default and meaning (the content of config.example.toml).")
        func run() async throws {
            print(ConfigRendering.example(), terminator: "")
        }
    }
}
