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

    /// Why `license` cannot take one more activation now, or nil when it can: `forbidden` for a
    /// key that is not usable (disabled, revoked, expired), `conflict` when every seat is taken.
    public static func activationRefusal(_ license: LicenseKey, at now: Date) -> SoukError? {
        let status = license.status(at: now)
        guard status.isUsable else { return SoukError(.forbidden, "This license key is \(status.rawValue).") }
        guard license.hasFreeSeat else {
            return SoukError(
                .conflict,
                "This license key has reached its activation limit (\(license.activationLimit ?? 0)). Deactivate it on another device first.")
        }
        return nil
    }

    /// A revoked key (refund, lost dispute) stays revoked.
    public static let revokedStaysRevoked = SoukError(
        .conflict, "This license key was revoked by a refund or a lost dispute; it can be neither enabled nor disabled.")
}
