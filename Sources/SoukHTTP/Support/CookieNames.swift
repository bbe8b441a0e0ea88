/// The names of Souk's cookies. Over https they carry the `__Host-` prefix: a browser then accepts
/// them only with `Secure`, `Path=/` and no `Domain`, so a page on a sibling subdomain (or a
/// network attacker on plain http) cannot plant or overwrite them. Over http the prefix would make
/// browsers drop the cookies, so local stores use the plain names.
struct CookieNames: Sendable, Equatable {
    /// The browser session (a credential).
    let session: String
    /// The pre-session secret CSRF tokens are derived from.
    let csrf: String
    /// The guest cart (a credential for the cart it names).
    let cart: String

    /// The browser's IANA time zone, set by `local-time.js` (not a credential: script-readable).
    static let timeZone = "souk_tz"

    init(https: Bool) {
        let prefix = https ? "__Host-" : ""
        session = prefix + "souk_session"
        csrf = prefix + "souk_csrf"
        cart = prefix + "souk_cart"
    }
}
