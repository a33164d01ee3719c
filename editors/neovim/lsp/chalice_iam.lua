-- chalice-iam for Neovim 0.11+:
--   vim.lsp.enable('chalice_iam')
-- Override any field with vim.lsp.config('chalice_iam', { ... }), e.g.
--   vim.lsp.config('chalice_iam', {
--     cmd = { '/path/to/chalice-iam', 'lsp' },
--     settings = { ['chalice-iam'] = { stage = 'prod', severity = { CIAM009 = 'off' } } },
--   })

---@type vim.lsp.Config
return {
  cmd = { 'chalice-iam', 'lsp' },
  filetypes = { 'python', 'json' },
  -- A function rather than root_markers: with markers, a buffer outside any
  -- project would still start a client (with no root), and every JSON file
  -- would get one. Here only Python files of a Chalice project and the JSON
  -- files in its .chalice/ directory do.
  root_dir = function(bufnr, on_dir)
    local root = require('chalice_iam').buffer_root(bufnr)
    if root then
      on_dir(root)
    end
  end,
  -- Answered to workspace/configuration (section "chalice-iam").
  settings = { ['chalice-iam'] = {} },
  -- The same settings as initializationOptions, so they apply from the
  -- first diagnostics on; users configure them once, under `settings`.
  before_init = function(params, config)
    params.initializationOptions = (config.settings or {})['chalice-iam'] or {}
  end,
}
