using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace MicroTvm.Build.Tasks
{
    internal static class PathUtil
    {
        private static readonly StringComparison PathComparison =
            Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

        public static string EnsureTrailingSeparator(string directory) =>
            directory.EndsWith(Path.DirectorySeparatorChar.ToString()) || directory.EndsWith("/")
                ? directory
                : directory + Path.DirectorySeparatorChar;

        /// <summary>The path relative to <paramref name="directory"/>, or null when it is not inside it.</summary>
        public static string? RelativeInside(string directory, string fullPath)
        {
            string root = EnsureTrailingSeparator(Path.GetFullPath(directory));
            string path = Path.GetFullPath(fullPath);
            return path.StartsWith(root, PathComparison) ? path.Substring(root.Length) : null;
        }

        /// <summary>
        /// MSBuild reads a task's output items and metadata as escaped text: a '$(Foo)', '@(x)' or '%(y)' in a path
        /// would be expanded later (a project folder "proj$(Foo)x" made the build write under "projx/"), a ';' would
        /// split it. Every path a task outputs goes through this (%XX, as MSBuild's own escaping).
        /// </summary>
        public static string MsBuildEscape(string text)
        {
            var builder = new StringBuilder(text.Length);
            foreach (char c in text)
            {
                if (c == '%' || c == '$' || c == '@' || c == '\'' || c == ';' || c == '(' || c == ')' || c == '*' || c == '?')
                {
                    builder.Append('%').Append(((int)c).ToString("X2"));
                }
                else
                {
                    builder.Append(c);
                }
            }
            return builder.ToString();
        }

        /// <summary>An output item for a literal path or text (see <see cref="MsBuildEscape"/>).</summary>
        public static Microsoft.Build.Utilities.TaskItem Item(string literal) => new Microsoft.Build.Utilities.TaskItem(MsBuildEscape(literal));

        public static void SetLiteral(Microsoft.Build.Framework.ITaskItem item, string name, string literal) => item.SetMetadata(name, MsBuildEscape(literal));

        public static string Sha256Hex(string text)
        {
            using (var sha = SHA256.Create())
            {
                var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
                var builder = new StringBuilder(bytes.Length * 2);
                foreach (var b in bytes)
                {
                    builder.Append(b.ToString("x2"));
                }
                return builder.ToString();
            }
        }

        /// <summary>Writes the file only when its content differs, so unchanged inputs keep their timestamps.</summary>
        public static bool WriteIfDifferent(string path, string content)
        {
            if (File.Exists(path) && File.ReadAllText(path) == content)
            {
                return false;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, content);
            return true;
        }
    }
}
