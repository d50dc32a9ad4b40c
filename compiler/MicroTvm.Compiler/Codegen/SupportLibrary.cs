using System.Reflection;
using System.Text.RegularExpressions;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The C helpers the kernels share (TFLite's fixed-point arithmetic, the DSP and Helium instructions and their portable
/// equivalents). Each is a real header in <c>Codegen/CHelpers/</c>, embedded in this assembly, that compiles on its own
/// and says what it needs with <c>#include</c>: <c>"mtvm_x.h"</c> for another helper, <c>&lt;x.h&gt;</c> for the C
/// library. A generated model gets the helpers its kernels use pasted in as <c>static</c> functions, dependencies
/// first, so the source stays self-contained and models never clash; the C library headers go once to the top.
/// </summary>
internal sealed partial class SupportLibrary
{
    /// <summary>The headers the model's own header already includes.</summary>
    private static readonly string[] ModelHeaderIncludes = { "<stddef.h>", "<stdint.h>" };

    private readonly SortedSet<string> _used = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _includes = new(StringComparer.Ordinal);

    /// <summary>Pulls in helper <paramref name="name"/> (a file of CHelpers without <c>.h</c>, e.g. <c>mtvm_dsp</c>)
    /// and everything it includes.</summary>
    public void Use(string name)
    {
        if (!Helpers.Value.TryGetValue(name, out var helper)) throw new ArgumentException($"unknown C helper {name}", nameof(name));
        if (!_used.Add(name)) return;
        foreach (var dependency in helper.Dependencies) Use(dependency);
    }

    private readonly SortedSet<string> _declarations = new(StringComparer.Ordinal);

    /// <summary>An external function the model calls (a custom operator's), declared once after the includes, and the header
    /// its types come from.</summary>
    public void Declare(string include, string declaration)
    {
        _includes.Add(include);
        _declarations.Add(declaration);
    }

    /// <summary>The model's source calls memcpy or memset.</summary>
    public void UseMemcpy() => _includes.Add("<string.h>");

    /// <summary>The C library headers of the used helpers and kernels, once each, minus those of the model's header.</summary>
    public IEnumerable<string> Includes =>
        _used.SelectMany(n => Helpers.Value[n].Includes).Concat(_includes).Distinct().Except(ModelHeaderIncludes).Order(StringComparer.Ordinal);

    /// <summary>The used helpers' code, each after what it includes (deterministic: dependencies in include order,
    /// otherwise by name).</summary>
    public string Code()
    {
        var writer = new CodeWriter();
        var written = new HashSet<string>(StringComparer.Ordinal);
        void Write(string name)
        {
            if (!written.Add(name)) return;
            foreach (var dependency in Helpers.Value[name].Dependencies) Write(dependency);
            writer.Lines(Helpers.Value[name].Body);
            writer.Line();
        }

        foreach (var declaration in _declarations) writer.Line(declaration);
        if (_declarations.Count > 0) writer.Line();
        foreach (var name in _used) Write(name);
        return writer.ToString();
    }

    /// <summary>One helper header: its code without include guard and includes, what it includes.</summary>
    internal sealed record Helper(string Name, string Source, string Body, IReadOnlyList<string> Dependencies, IReadOnlyList<string> Includes);

    /// <summary>Every helper, by name; the source as the header file has it (for tests that compile it alone).</summary>
    internal static Lazy<IReadOnlyDictionary<string, Helper>> Helpers { get; } = new(Load);

    private const string ResourcePrefix = "CHelpers/";

    private static IReadOnlyDictionary<string, Helper> Load()
    {
        var assembly = typeof(SupportLibrary).Assembly;
        var helpers = new Dictionary<string, Helper>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            string name = Path.GetFileNameWithoutExtension(resource[ResourcePrefix.Length..]);
            helpers.Add(name, Parse(name, reader.ReadToEnd().Replace("\r\n", "\n")));
        }

        return helpers;
    }

    /// <summary>Splits a header into its body, helper dependencies and C library includes. The include guard (the
    /// first <c>#ifndef</c>/<c>#define</c> pair and the last <c>#endif</c>) is dropped; includes at the top level are
    /// taken out, conditional ones (<c>&lt;arm_acle.h&gt;</c> inside <c>#if</c>) stay where they are.</summary>
    private static Helper Parse(string name, string source)
    {
        var lines = source.TrimEnd('\n').Split('\n').ToList();
        string guard = $"MTVM_{name["mtvm_".Length..].ToUpperInvariant()}_H";
        int ifndef = lines.IndexOf($"#ifndef {guard}");
        if (ifndef < 0 || lines[ifndef + 1] != $"#define {guard}" || lines[^1] != "#endif")
            throw new InvalidOperationException($"C helper {name}.h must be guarded by #ifndef {guard} / #define {guard} ... #endif");
        lines.RemoveAt(lines.Count - 1);
        lines.RemoveRange(ifndef, 2);

        var dependencies = new List<string>();
        var includes = new List<string>();
        var body = new List<string>();
        int depth = 0;
        foreach (var line in lines)
        {
            var include = IncludeLine().Match(line);
            if (depth == 0 && include.Success)
            {
                string target = include.Groups[1].Value;
                if (target.StartsWith('"')) dependencies.Add(Path.GetFileNameWithoutExtension(target.Trim('"')));
                else includes.Add(target);
                continue;
            }

            if (line.StartsWith("#if", StringComparison.Ordinal)) depth++;
            else if (line.StartsWith("#endif", StringComparison.Ordinal)) depth--;
            body.Add(line);
        }

        // No blank runs where the guard and includes were.
        string text = Regex.Replace(string.Join('\n', body), @"\n{3,}", "\n\n").Trim('\n');
        return new Helper(name, source, text, dependencies, includes);
    }

    [GeneratedRegex("""^#include\s+([<"][^>"]+[>"])\s*$""")]
    private static partial Regex IncludeLine();
}
