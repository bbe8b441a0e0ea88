import Foundation
import SoukCore

/// Writes configuration as TOML: the documented example (`souk config example`, which
/// `config.example.toml` must equal) and the effective settings with secrets redacted (`souk config dump`).
enum ConfigRendering {
    static let redacted = "<redacted>"

    static func example() -> String {
        render(Settings(), comments: true, redactSecrets: false)
    }

    static func dump(_ settings: Settings) -> String {
        render(settings, comments: false, redactSecrets: true)
    }

    private static func render(_ settings: Settings, comments: Bool, redactSecrets: Bool) -> String {
        var lines: [String] = []
        if comments {
            lines += [
                "# Souk configuration. Every key is optional: these are the defaults.",
                "# Pass the file with `souk serve --config souk.toml`. Any key can also be set by an",
                "# environment variable SOUK_<TABLE>_<KEY>, e.g. SOUK_SERVER_PORT=9000, which wins over the file.",
            ]
        }
        var currentTable = ""
        for key in ConfigSchema.keys {
            if key.table != currentTable {
                currentTable = key.table
                lines.append("")
                lines.append("[\(currentTable)]")
            }
            if comments { lines.append("# \(key.doc) (env \(key.environmentName))") }
            if case .optionalBool(let keyPath, let unset) = key.kind, settings[keyPath: keyPath] == nil {
                // Unset has a meaning of its own: the example leaves the key commented out, and the
                // dump says what unset means (no TOML value can).
                lines.append("# \(key.name) = true | false   (unset: \(unset))")
                continue
            }
            lines.append("\(key.name) = \(value(of: key, in: settings, redactSecrets: redactSecrets))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func value(of key: ConfigKey, in settings: Settings, redactSecrets: Bool) -> String {
        switch key.kind {
        case .string(let keyPath, _):
            let string = settings[keyPath: keyPath]
            if redactSecrets && key.secret && !string.isEmpty { return quoted(redacted) }
            return quoted(string)
        case .int(let keyPath, _): return String(settings[keyPath: keyPath])
        case .bool(let keyPath): return String(settings[keyPath: keyPath])
        case .optionalBool(let keyPath, _): return settings[keyPath: keyPath].map(String.init) ?? ""
        case .double(let keyPath, _):
            let number = settings[keyPath: keyPath]
            return number == number.rounded() ? String(format: "%.1f", number) : String(number)
        }
    }

    private static func quoted(_ string: String) -> String {
        var escaped = ""
        for character in string {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }
}
