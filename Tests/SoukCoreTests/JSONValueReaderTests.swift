import Foundation
import Testing

@testable import SoukCore

@Suite("Reading JSON into JSONValue without JSONDecoder")
struct JSONValueReaderTests {
    /// A Stripe event as it comes: nested objects, nulls, numbers, booleans, arrays, escapes.
    static let event = #"""
        {
          "id": "evt_1PqR2sT3uV4wX5yZ",
          "object": "event",
          "api_version": "2024-06-20",
          "created": 1733572800,
          "data": {
            "object": {
              "id": "cs_test_a1B2c3D4",
              "object": "checkout.session",
              "amount_subtotal": 2400,
              "amount_total": 2400,
              "automatic_tax": {"enabled": false, "liability": null, "status": null},
              "client_reference_id": "ord_5jmyidvvy7dewcqs",
              "currency": "usd",
              "customer_details": {"email": "buyer@example.com", "name": "Zoë \"Z\" Ödegaard", "phone": null},
              "custom_fields": [],
              "discounts": [],
              "expires_at": 1733659200,
              "livemode": false,
              "metadata": {"order_id": "ord_5jmyidvvy7dewcqs", "note": "line one\nline two\ttabbed \/ slash \\ back"},
              "payment_intent": "pi_3PqR2sT3uV4wX5yZ",
              "payment_method_types": ["card", "link"],
              "payment_status": "paid",
              "shipping_cost": null,
              "status": "complete",
              "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
              "fraction": -12.5e-3,
              "big": 12345678901234567890,
              "nested": [[], {}, [1, [2, [3]]], {"a": {"b": {"c": true}}}]
            },
            "previous_attributes": null
          },
          "livemode": false,
          "pending_webhooks": 1,
          "request": {"id": null, "idempotency_key": null},
          "type": "checkout.session.completed"
        }
        """#

    static func decoded(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func readDirectly(_ text: String) -> JSONValue? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var reader = JSONValueReader(UnsafeBufferPointer(buffer))
            return try? reader.document()
        }
    }

    @Test("A provider's event is read by the reader itself, to the value JSONDecoder gives")
    func event() throws {
        let direct = try #require(Self.readDirectly(Self.event), "the reader handed a plain event to JSONDecoder")
        #expect(direct == Self.decoded(Self.event))
        #expect(try JSONValue.read(Data(Self.event.utf8)) == direct)
        #expect(direct["data"]?["object"]?["metadata"]?["note"]?.stringValue == "line one\nline two\ttabbed / slash \\ back")
        #expect(direct["data"]?["object"]?["customer_details"]?["name"]?.stringValue == "Zoë \"Z\" Ödegaard")
        #expect(direct["data"]?["object"]?["amount_total"]?.intValue == 2400)
        #expect(direct["data"]?["object"]?["livemode"] == .bool(false))
        #expect(direct["data"]?["object"]?["fraction"] == .number(-0.0125))
    }

    @Test(
        "Whatever the input, the answer (or the failure) is JSONDecoder's",
        arguments: [
            "{}", "[]", "null", "true", "false", "0", "-0", "1.5", "1e3", "-2E-2", "\"\"", " \t\n{\"a\" : [ 1 , 2 ] }\r\n",
            #"{"a":"\u00e9\ud83d\ude00"}"#, #"{"a":"\u0000"}"#, #"{"a":"\ud800"}"#, #"{"a":1,"a":2}"#, #"{"a":"\q"}"#,
            "{\"a\":\"tab\there\"}", "{\"a\":1,}", "[1,]", "[01]", "[1.]", "[.5]", "[-]", "[1e]", "[1e400]", "[NaN]",
            "{\"a\" 1}", "{a:1}", "[1] [2]", "", "   ", "[", "{\"a\":", "\"unterminated", "tru", "nul", "[true false]",
            String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
            "{\"emoji\":\"😀\",\"accent\":\"é\"}", "[\"\\/\\\"\\\\\\b\\f\\n\\r\\t\"]",
        ])
    func sameAsJSONDecoder(text: String) throws {
        let read = try? JSONValue.read(Data(text.utf8))
        #expect(read == Self.decoded(text), "\(text.prefix(60))")
    }

    @Test("Bytes that are not UTF-8 are refused, as JSONDecoder refuses them")
    func invalidUTF8() {
        let bytes = Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D])  // {"a":"\xC3("}
        #expect((try? JSONValue.read(bytes)) == (try? JSONDecoder().decode(JSONValue.self, from: bytes)))
    }
}
