import Hummingbird
import HummingbirdTesting
import Foundation
import Testing

@testable import SoukHTTP

@Suite("Signing in returns to the page that asked for it")
struct SignInReturnTests {
    @Test("`next` brings the buyer back to a local page, never to another site")
    func next() async throws {
        try await TestStore().run { browser in
            try await browser.register("n@example.com", password: "12345678")
            let page = try await Browser(client: browser.client).get("/signin?next=/checkout")
            #expect(page.text.contains(#"name="next" value="/checkout""#))
            for (next, expected) in [
                ("/checkout", "/checkout"), ("//evil.example.com/x", "/account"), ("https://evil.example.com", "/account"),
                ("/\\evil.example.com", "/account"),
            ] {
                let visitor = Browser(client: browser.client)
                let response = try await visitor.submitForm(
                    "/signin", fields: ["email": "n@example.com", "password": "12345678", "next": next], csrfFrom: "/signin")
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == expected, "next=\(next)")
            }
        }
    }

    @Test("Absent values render as nothing, never as the text nil")
    func noNil() async throws {
        try await TestStore().run { browser in
            let page = try await browser.get("/signin")
            #expect(!page.text.contains(#"name="next""#))
            #expect(!page.text.contains("nil"))
        }
        #expect(Pages.withoutNils(["a": String?.none as Any, "b": [String?.none as Any, "x"], "c": 1]) as? NSDictionary
            == ["b": ["x"], "c": 1] as NSDictionary)
        // An optional holding a value comes out unwrapped (rendered as "x", not "Optional(\"x\")"),
        // at any depth and whatever the type.
        let nested = Pages.withoutNils(["s": String?.some("x") as Any, "n": Int?.some(3) as Any,
                                        "d": [String: Any]?.some(["t": Bool?.some(true) as Any]) as Any])
        #expect(nested as? NSDictionary == ["s": "x", "n": 3, "d": ["t": true]] as NSDictionary)
        #expect(Pages.withoutNils(Double?.some(1.5) as Any) as? Double == 1.5)
        #expect(Pages.withoutNils(Double?.none as Any) == nil)
    }

    @Test("Path components are percent-encoded as Foundation would, and left alone when nothing needs it")
    func pathComponents() {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        for text in ["", "plain-slug_1.0~", "a b", "Café & Crème/50%", "日本語", "emoji 🎉", "q=a&b=c#x", "+?@:"] {
            #expect(StoreViews.pathComponent(text) == text.addingPercentEncoding(withAllowedCharacters: unreserved))
        }
    }

    @Test("Only paths on this store are accepted")
    func unitPaths() {
        #expect(AccountPages.localPath("/orders") == "/orders")
        #expect(AccountPages.localPath("/orders?x=1") == "/orders?x=1")
        #expect(AccountPages.localPath("orders") == nil)
        #expect(AccountPages.localPath("/a b") == nil)
        #expect(AccountPages.localPath(nil) == nil)
    }
}
