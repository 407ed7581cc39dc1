namespace Clearhouse.Server.Tests;

/// <summary>Fresh directories under the system temp folder for data directories; deleted after use.</summary>
public static class TemporaryDirectory
{
    public static string Create(string purpose)
    {
        string path = Path.Combine(Path.GetTempPath(), $"clearhouse-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
