import Foundation
import Mustache

/// The HTML templates and static assets, compiled into the binary by the EmbedTemplates plugin.
/// A `theme/` folder in the data dir overrides any of them by file name (e.g. `theme/layout.mustache`).
public struct Templates: Sendable {
    let library: MustacheLibrary
    /// Non-template assets by file name (`souk.css`, `openapi.json`).
    let assets: [String: Data]

    public enum LoadError: Error, CustomStringConvertible {
        case invalidTemplate(name: String, source: String, reason: String)
        public var description: String {
            switch self {
            case .invalidTemplate(let name, let source, let reason):
                "The template \(name) (\(source)) does not parse: \(reason). Fix or remove it."
            }
        }
    }

    public init(themeDirectory: String?) throws {
        var files: [String: (data: Data, source: String)] = [:]
        for (name, base64) in EmbeddedAssets.base64 {
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

    func render(_ name: String, _ values: [String: Any]) -> String {
        guard let html = library.render(values, withTemplate: name) else {
            preconditionFailure("template \(name) is not built in")
        }
        return html
    }
}
