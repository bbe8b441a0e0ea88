import Foundation

/// The license API's input rules.
public enum LicenseRules {
    /// 1 to 255 characters (Unicode code points, as JSON Schema counts) after trimming, on one line.
    public static func instanceName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...255).contains(name.unicodeScalars.count) else {
            throw SoukError.validation("instance_name", "The instance name must be 1 to 255 characters.")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw SoukError.validation("instance_name", "The instance name must be plain text on one line.")
        }
        return name
    }

    public static func instanceNotActive(_ id: String) -> String {
        "The instance \(id) is not active on this license key."
    }

    /// A revoked key (refund, lost dispute) stays revoked.
    public static let revokedStaysRevoked = SoukError(
        .conflict, "This license key was revoked by a refund or a lost dispute; it can be neither enabled nor disabled.")
}
