using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Tuning;

/// <summary>What the tuner measured for an entry (kept for people and for later tuning; the compiler reads only the
/// schedule).</summary>
/// <param name="Unit">instructions (emulated boards, QEMU -icount) or cycles / ticks (real boards).</param>
/// <param name="Cost">The chosen schedule's time per run, minimum of the repeats.</param>
/// <param name="DefaultCost">The default schedule's, measured the same way.</param>
/// <param name="Candidates">Distinct schedules measured.</param>
/// <param name="SpaceSize">Schedules in the operator's space.</param>
public sealed record TuningMeasurement(string Board, string Unit, double Cost, double DefaultCost, int Candidates, int SpaceSize, int Repeats, long WeightBytes, long DefaultWeightBytes);

/// <summary>One operator signature's schedule.</summary>
public sealed record TuningEntry(string Signature, Schedule Schedule, TuningMeasurement? Measured = null)
{
    private static readonly Regex Tail = new(@" cpu=(?<cpu>\S+) kernels=(?<kernels>\d+)$", RegexOptions.CultureInvariant);

    public string? Cpu => Tail.Match(Signature) is { Success: true } m ? m.Groups["cpu"].Value : null;

    public int? KernelSetVersion => Tail.Match(Signature) is { Success: true } m && int.TryParse(m.Groups["kernels"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>
/// A tuning log (docs/tuning.md): JSON, versioned, one entry per operator signature (<see cref="OperatorSignature"/>)
/// with the schedule to use. The compiler reads it; <c>microtvm tune</c> writes it. A log that is not JSON of this
/// shape is an error (MTVM5000, with the file and line); a log of another format version an error (MTVM5001).
/// </summary>
public sealed class TuningLog
{
    public const string FormatName = "microtvm-tuning-log";
    public const int FormatVersion = 1;

    public TuningLog(IEnumerable<TuningEntry> entries, string? file = null)
    {
        Entries = entries.GroupBy(e => e.Signature, StringComparer.Ordinal).Select(g => g.Last()).OrderBy(e => e.Signature, StringComparer.Ordinal).ToList();
        File = file;
    }

    public IReadOnlyList<TuningEntry> Entries { get; }

    /// <summary>Where it was read from (for messages); null for a log built in memory.</summary>
    public string? File { get; }

    public TuningEntry? Find(string signature) => Entries.FirstOrDefault(e => e.Signature == signature);

    /// <summary>This log with <paramref name="entries"/> added, replacing entries of the same signatures.</summary>
    public TuningLog With(IEnumerable<TuningEntry> entries) => new(Entries.Concat(entries), File);

    public static TuningLog Load(string path)
    {
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CompilerException(ErrorCodes.TuningLogUnreadable, $"cannot read the tuning log: {e.Message}") { File = path };
        }

        return Parse(text, path);
    }

    public static TuningLog Parse(string json, string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Malformed(file, $"not valid JSON at line {(e.LineNumber ?? 0) + 1}: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Malformed(file, "the log must be a JSON object");
            string format = String(root, "format", file, "the log");
            if (format != FormatName) throw Malformed(file, $"\"format\" is '{format}', expected '{FormatName}'");
            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v))
                throw Malformed(file, "\"version\" (a number) is missing");
            if (v != FormatVersion)
                throw new CompilerException(ErrorCodes.TuningLogVersion, $"the tuning log has format version {v}; this compiler reads version {FormatVersion}. Tune again to write a new log") { File = file };
            if (!root.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
                throw Malformed(file, "\"entries\" (an array) is missing");
            var list = new List<TuningEntry>();
            int index = 0;
            foreach (var e in entries.EnumerateArray())
            {
                string where = $"entry {index++}";
                if (e.ValueKind != JsonValueKind.Object) throw Malformed(file, $"{where} is not an object");
                string signature = String(e, "signature", file, where);
                if (!e.TryGetProperty("schedule", out var s) || s.ValueKind != JsonValueKind.Object) throw Malformed(file, $"{where} has no \"schedule\" object");
                string kernel = String(s, "kernel", file, where + "'s schedule");
                var knobs = new Dictionary<string, string>();
                foreach (var p in s.EnumerateObject().Where(p => p.Name != "kernel"))
                {
                    if (p.Value.ValueKind != JsonValueKind.String) throw Malformed(file, $"{where}'s schedule knob \"{p.Name}\" is not a string");
                    knobs[p.Name] = p.Value.GetString()!;
                }

                TuningMeasurement? measured = null;
                if (e.TryGetProperty("measured", out var m) && m.ValueKind == JsonValueKind.Object)
                {
                    try
                    {
                        measured = m.Deserialize<TuningMeasurement>(JsonOptions);
                    }
                    catch (JsonException x)
                    {
                        throw Malformed(file, $"{where}'s \"measured\": {x.Message}");
                    }
                }

                list.Add(new TuningEntry(signature, new Schedule(kernel, knobs), measured));
            }

            return new TuningLog(list, file);
        }
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatName);
            writer.WriteNumber("version", FormatVersion);
            writer.WriteNumber("kernelSet", KernelSet.Version);
            writer.WriteStartArray("entries");
            foreach (var e in Entries)
            {
                writer.WriteStartObject();
                writer.WriteString("signature", e.Signature);
                writer.WriteStartObject("schedule");
                writer.WriteString("kernel", e.Schedule.Kernel);
                foreach (var (k, v) in e.Schedule.Knobs) writer.WriteString(k, v);
                writer.WriteEndObject();
                if (e.Measured is not null)
                {
                    writer.WritePropertyName("measured");
                    JsonSerializer.Serialize(writer, e.Measured, JsonOptions);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static string String(JsonElement e, string name, string file, string where) =>
        e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } s
            ? s : throw Malformed(file, $"{where} has no \"{name}\" string");

    private static CompilerException Malformed(string file, string what) =>
        new(ErrorCodes.TuningLogMalformed, $"malformed tuning log: {what}") { File = file };
}
