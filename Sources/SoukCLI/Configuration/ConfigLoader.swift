import Foundation
import SoukCore
import TOMLKit

/// A configuration problem, phrased for the operator: which key, which file and line, what is wrong.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// Builds the effective `Settings`: defaults, then the TOML file, then `SOUK_*` environment variables.
public enum ConfigLoader {
    public static func load(file: String?, environment: [String: String]) throws(ConfigError) -> Settings {
        var settings = Settings()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError(message: "\(file): cannot read the configuration file (\(error.localizedDescription)).")
            }
            try apply(toml: text, file: file, to: &settings)
        }
        try applyEnvironment(environment, to: &settings)
        try checkConsistency(settings)
        return settings
    }

    static func apply(toml text: String, file: String, to settings: inout Settings) throws(ConfigError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(message: "\(file):\(error.source.begin.line): not valid TOML: \(error.description).")
        } catch {
            throw ConfigError(message: "\(file): not valid TOML: \(error).")
        }
        var errors: [String] = []
        visit(table, prefix: "") { path, value in
            let location = line(of: path, in: text).map { "\(file):\($0)" } ?? file
            guard let key = ConfigSchema.byPath[path] else {
                errors.append("\(location): unknown key \(path). See config.example.toml for the keys Souk reads.")
                return
            }
            if let problem = assign(value, to: key, in: &settings) {
                errors.append("\(location): \(path): \(problem)")
            }
        }
        if !errors.isEmpty { throw ConfigError(message: errors.joined(separator: "\n")) }
    }

    /// Calls `body` for every non-table value with its dotted path.
    private static func visit(_ table: TOMLTable, prefix: String, _ body: (String, any TOMLValueConvertible) -> Void) {
        for key in table.keys.sorted() {
            guard let value = table[key] else { continue }
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let child = value.table, ConfigSchema.byPath[path] == nil {
                visit(child, prefix: path, body)
            } else {
                body(path, value)
            }
        }
    }

    private static func assign(_ value: any TOMLValueConvertible, to key: ConfigKey, in settings: inout Settings)
        -> String?
    {
        switch key.kind {
        case .string(let keyPath, let validate):
            guard let string = value.string else { return "expected a string, got \(describe(value))" }
            if let problem = validate(string) { return "\(problem), got \"\(string)\"" }
            settings[keyPath: keyPath] = string
        case .int(let keyPath, let range):
            guard let int = value.int else { return "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(describe(value))" }
            guard range.contains(int) else { return "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(int)" }
            settings[keyPath: keyPath] = int
        case .bool(let keyPath):
            guard let bool = value.bool else { return "expected true or false, got \(describe(value))" }
            settings[keyPath: keyPath] = bool
        case .optionalBool(let keyPath, _):
            guard let bool = value.bool else { return "expected true or false, got \(describe(value))" }
            settings[keyPath: keyPath] = bool
        case .double(let keyPath, let range):
            guard let number = value.double ?? value.int.map(Double.init) else {
                return "expected a number from \(range.lowerBound) to \(range.upperBound), got \(describe(value))"
            }
            guard range.contains(number) else { return "expected a number from \(range.lowerBound) to \(range.upperBound), got \(number)" }
            settings[keyPath: keyPath] = number
        }
        return nil
    }

    private static func describe(_ value: any TOMLValueConvertible) -> String {
        if let string = value.string { return "the string \"\(string)\"" }
        return "a \(value.type.description) (\(value))"
    }

    /// The line a key is set on, found by following `[table]` headers. Nil for inline tables and
    /// other forms this simple reading does not follow.
    static func line(of path: String, in text: String) -> Int? {
        let parts = path.split(separator: ".").map(String.init)
        let table = parts.dropLast().joined(separator: ".")
        let name = parts.last!
        var current = ""
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") && !line.hasPrefix("[[") {
                current = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t")).components(
                    separatedBy: "#")[0].trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            let full = current.isEmpty ? key : "\(current).\(key)"
            if full == path || (current == table && key == name) { return index + 1 }
        }
        return nil
    }

    static func applyEnvironment(_ environment: [String: String], to settings: inout Settings) throws(ConfigError) {
        var errors: [String] = []
        for key in ConfigSchema.keys {
            guard let raw = environment[key.environmentName] else { continue }
            let problem: String?
            switch key.kind {
            case .string(let keyPath, let validate):
                problem = validate(raw).map { "\($0), got \"\(raw)\"" }
                if problem == nil { settings[keyPath: keyPath] = raw }
            case .int(let keyPath, let range):
                if let int = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(int) {
                    settings[keyPath: keyPath] = int
                    problem = nil
                } else {
                    problem = "expected an integer from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
                }
            case .bool(let keyPath):
                let bool = parseBool(raw)
                if let bool { settings[keyPath: keyPath] = bool }
                problem = bool == nil ? "expected true or false, got \"\(raw)\"" : nil
            case .optionalBool(let keyPath, _):
                let bool = parseBool(raw)
                if let bool { settings[keyPath: keyPath] = bool }
                problem = bool == nil ? "expected true or false, got \"\(raw)\"" : nil
            case .double(let keyPath, let range):
                if let number = Double(raw), range.contains(number) {
                    settings[keyPath: keyPath] = number
                    problem = nil
                } else {
                    problem = "expected a number from \(range.lowerBound) to \(range.upperBound), got \"\(raw)\""
                }
            }
            if let problem { errors.append("environment variable \(key.environmentName) (\(key.path)): \(problem)") }
        }
        if !errors.isEmpty { throw ConfigError(message: errors.joined(separator: "\n")) }
    }

    private static func parseBool(_ raw: String) -> Bool? {
        switch raw.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }

    /// Settings that are valid but probably not what the operator wants: printed by
    /// `souk config check` and logged when the store starts.
    public static func warnings(_ settings: Settings) -> [String] {
        var warnings: [String] = []
        if settings.offersTestPayments && settings.payments.realProviderConfigured {
            let real = [settings.payments.stripeConfigured ? "Stripe" : nil, settings.payments.paypalConfigured ? "PayPal" : nil]
                .compactMap { $0 }.joined(separator: " and ")
            warnings.append(
                "payments.test_enabled: test payments are offered beside \(real): any buyer can pick the test provider and get products without paying. Set payments.test_enabled = false (or remove it) before taking real orders.")
        }
        if settings.webhooks.allowPrivate {
            warnings.append(
                "webhooks.allow_private: seller webhooks may reach loopback and private addresses, so any verified seller can make this server send requests into its own network. Leave it off unless every seller is trusted.")
        }
        return warnings
    }

    /// `SOUK_*` variables that name no key (probably typos). `SOUK_CONFIG` names the file.
    public static func unknownEnvironmentVariables(_ environment: [String: String]) -> [String] {
        let known = Set(ConfigSchema.keys.map(\.environmentName) + ["SOUK_CONFIG"])
        return environment.keys.filter { $0.hasPrefix("SOUK_") && !known.contains($0) }.sorted()
    }

    /// Rules that involve several keys.
    static func checkConsistency(_ settings: Settings) throws(ConfigError) {
        var errors: [String] = []
        let payments = settings.payments
        if payments.defaultProvider == "stripe"
            && (payments.stripe.secretKey.isEmpty || payments.stripe.webhookSecret.isEmpty)
        {
            errors.append(
                "payments.default: \"stripe\" needs payments.stripe.secret_key and payments.stripe.webhook_secret.")
        }
        // A provider is switched on by its API credentials; its webhooks must then be verifiable.
        if !payments.stripe.secretKey.isEmpty && payments.stripe.webhookSecret.isEmpty {
            errors.append(
                "payments.stripe.secret_key is set but payments.stripe.webhook_secret is empty: Stripe's webhooks could not be verified. Copy the endpoint's signing secret (whsec_…) from Stripe's dashboard.")
        }
        if !payments.paypal.clientID.isEmpty && !payments.paypal.clientSecret.isEmpty && payments.paypal.webhookID.isEmpty {
            errors.append(
                "payments.paypal.client_id is set but payments.paypal.webhook_id is empty: PayPal's webhooks could not be verified.")
        }
        if payments.defaultProvider == "paypal"
            && (payments.paypal.clientID.isEmpty || payments.paypal.clientSecret.isEmpty || payments.paypal.webhookID.isEmpty)
        {
            errors.append(
                "payments.default: \"paypal\" needs payments.paypal.client_id, client_secret and webhook_id.")
        }
        if settings.server.production && !payments.realProviderConfigured && !settings.offersTestPayments {
            errors.append(
                "payments: no payment provider is offered: the test provider is refused in production (server.production = true). Configure stripe or paypal, or set payments.allow_test_in_production = true."
            )
        } else if !settings.offersTestPayments && !payments.realProviderConfigured {
            errors.append(
                "payments.test_enabled = false and neither Stripe nor PayPal is configured: no buyer could pay. Configure [payments.stripe] or [payments.paypal], or enable test payments.")
        }
        if !errors.isEmpty { throw ConfigError(message: errors.joined(separator: "\n")) }
    }
}
