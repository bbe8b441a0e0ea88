import ArgumentParser
import Foundation
import SoukHTTP

/// `souk routes`: every method and path the server answers, as its router holds them. Operators
/// use it to write proxy rules; the tests check the OpenAPI document and the access matrix
/// against it, so a route added without either fails them.
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes", abstract: "List every route the server answers (method and path pattern).")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let (runtime, _) = try await global.runtime()
        let routes = try await reportingErrors { try registeredRoutes(runtime) }
        if json {
            print(TableOutput.json(routes.map { ["method": .string($0.method), "path": .string($0.path)] }))
        } else {
            print(TableOutput.text(headers: ["METHOD", "PATH"], rows: routes.map { [$0.method, $0.path] }))
        }
    }
}
