import Foundation
import SoukTemplates

/// The pages' templates and static assets (this module's `Templates/` folder, embedded in the
/// binary), each overridable by a file of the same name in the data folder's `theme/`.
public struct Templates: Sendable {
    let library: TemplateLibrary
    var assets: [String: Data] { library.assets }

    public init(themeDirectory: String?) throws {
        library = try TemplateLibrary(embedded: EmbeddedAssets.base64, themeDirectory: themeDirectory)
    }

    func render(_ name: String, _ values: [String: Any]) -> String { library.render(name, values) }
}
