using System.Linq;
using System.Text;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The one rule for the C prefix of a model (<c>&lt;name&gt;_run</c>, <c>&lt;name&gt;.h</c>): letters, digits and '_',
/// not starting with a digit, not only '_'. The SDK's tasks compile this file too (linked source: under .NET
/// Framework MSBuild they cannot load the compiler), so the build and the compiler name a model alike.
/// </summary>
internal static class CIdentifiers
{
    /// <summary>Whether <paramref name="name"/> is usable as it is.</summary>
    public static bool IsValid(string name) =>
        name.Length > 0 && !IsDigit(name[0]) && name.All(IsIdentifierChar) && name.Any(c => c != '_');

    /// <summary><paramref name="name"/> with every other character replaced by '_' and "m_" before a leading digit;
    /// may still be invalid (empty, or only '_').</summary>
    public static string From(string name)
    {
        var builder = new StringBuilder(name.Length + 2);
        foreach (char c in name) builder.Append(IsIdentifierChar(c) ? c : '_');
        if (builder.Length > 0 && IsDigit(builder[0])) builder.Insert(0, "m_");
        return builder.ToString();
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsIdentifierChar(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
}
