import Foundation
import SoukCore
import Testing

@Suite("JSONValue: any JSON document, kinds kept")
struct JSONValueTests {
    @Test("Booleans stay booleans, numbers numbers, strings strings; nesting and null survive a round trip")
    func kinds() throws {
        let text = #"{"t":true,"f":false,"one":1,"zero":0,"half":1.5,"s":"1","empty":"","n":null,"list":[1,"true",false,null,{}],"deep":{"a":{"b":[[]]}}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["t"] == .bool(true) && value["f"] == .bool(false))
        #expect(value["one"] == .number(1) && value["zero"] == .number(0) && value["half"] == .number(1.5))
        #expect(value["s"] == .string("1") && value["empty"] == .string("") && value["n"] == .null)
        #expect(value["list"] == .array([.number(1), .string("true"), .bool(false), .null, .object([:])]))
        #expect(value["deep"]?["a"]?["b"] == .array([.array([])]))
        let again = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        #expect(again == value)
    }
}
