import Foundation
import Mustache

/// A module's templates and static files, built into the binary (each module's `Templates/`
/// folder, embedded by the EmbedTemplates plugin), any of them overridden by a file of the same
/// name in the data folder's `theme/` (e.g. `theme/layout.mustache`, `theme/receipt.mustache`).
public struct TemplateLibrary: Sendable {
    let library: MustacheLibrary
    /// Non-template files by name (`souk.css`, `openapi.json`).
    public let assets: [String: Data]

    public enum LoadError: Error, CustomStringConvertible {
        case invalidTemplate(name: String, source: String, reason: String)
        public var description: String {
            switch self {
            case .invalidTemplate(let name, let source, let reason):
                "The template \(name) (\(source)) does not parse: \(reason). Fix or remove it."
            }
        }
    }

    /// - Parameter embedded: file name → base64 contents (a module's `EmbeddedAssets.base64`).
    public init(embedded: [String: String], themeDirectory: String?) throws {
        var files: [String: (data: Data, source: String)] = [:]
        for (name, base64) in embedded {
            files[name] = (Data(base64Encoded: base64) ?? Data(), "built in")
        }
        if let themeDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: themeDirectory) {
            for name in names where files[name] != nil {
                let path = (themeDirectory as NSString).appendingPathComponent(name)
                if let data = FileManager.default.contents(atPath: path) { files[name] = (data, path) }
            }
        }
        var library = MustacheLibrary()
        var assets: [String: Data] = [:]
        for (name, file) in files {
            if name.hasSuffix(".mustache") {
                let templateName = String(name.dropLast(".mustache".count))
                do {
                    try library.register(String(decoding: file.data, as: UTF8.self), named: templateName)
                } catch {
                    throw LoadError.invalidTemplate(name: name, source: file.source, reason: "\(error)")
                }
            } else {
                assets[name] = file.data
            }
        }
        self.library = library
        self.assets = assets
    }

    /// The rendered template; a name that is not built in is a programming error.
    public func render(_ name: String, _ values: [String: Any]) -> String {
        guard let text = library.render(values, withTemplate: name) else {
            preconditionFailure("template \(name) is not built in")
        }
        return text
    }
}
