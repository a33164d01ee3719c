-- chalice-iam for Neovim: root detection, `setup()` for Neovim 0.8–0.10
-- (0.7 works too, through vim.lsp.start_client), and the policy command.
-- On Neovim 0.11+ prefer `vim.lsp.enable('chalice_iam')`, which reads
-- lsp/chalice_iam.lua; the functions here serve both.

local M = {}

--- The client's name; also the name of the lsp/ config file.
M.name = 'chalice_iam'
--- The server's command that returns the needed IAM policy as JSON text.
M.show_policy_command = 'chalice-iam.showPolicy'

local uv = vim.uv or vim.loop

local function is_file(path)
  local stat = uv.fs_stat(path)
  return stat ~= nil and stat.type == 'file'
end

local function parent(dir)
  local up = vim.fn.fnamemodify(dir, ':h')
  if up == dir then
    return nil
  end
  return up
end

--- Whether `dir` is a Chalice project root: it holds app.py or
--- .chalice/config.json (the server's rule, so both agree on the root).
function M.is_project_root(dir)
  return is_file(dir .. '/app.py') or is_file(dir .. '/.chalice/config.json')
end

--- The project root enclosing `path` (a file), or nil. Like the server's
--- `enclosing_project_root`: the nearest directory above the file.
function M.root_dir(path)
  if path == nil or path == '' then
    return nil
  end
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while dir do
    if M.is_project_root(dir) then
      return dir
    end
    dir = parent(dir)
  end
  return nil
end

--- Whether the server should attach to this buffer: Python files of a
--- project, and the JSON files in its .chalice/ directory (config and policy
--- files get diagnostics too). Returns the root or nil.
function M.buffer_root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil -- unnamed, or not a file (fugitive://, term://, ...)
  end
  local ft = vim.bo[bufnr].filetype
  if ft == 'json' and vim.fn.fnamemodify(name, ':p:h:t') ~= '.chalice' then
    return nil
  end
  if ft ~= 'python' and ft ~= 'json' then
    return nil
  end
  return M.root_dir(name)
end

M.defaults = {
  --- The server binary and its arguments; `chalice-iam` must be on PATH
  --- unless this names the binary.
  cmd = { 'chalice-iam', 'lsp' },
  filetypes = { 'python', 'json' },
  --- Settings, as the server reads them (initializationOptions and
  --- workspace/configuration, section "chalice-iam"):
  ---   stage = 'prod', pythonVersion = '3.12', severity = { CIAM009 = 'off' }
  settings = {},
}

local options = vim.deepcopy(M.defaults)

--- The `settings` table Neovim answers workspace/configuration from: it
--- looks the section name up as a key.
local function settings_table(settings)
  return { ['chalice-iam'] = settings }
end

local function start_config(root)
  return {
    name = M.name,
    cmd = options.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = options.settings,
    settings = settings_table(options.settings),
  }
end

--- Attaches the server to `bufnr` when it belongs to a Chalice project.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local root = M.buffer_root(bufnr)
  if not root then
    return nil
  end
  if vim.lsp.start then
    -- 0.8+: reuses a running client with the same name and root.
    return vim.lsp.start(start_config(root), { bufnr = bufnr })
  end
  -- 0.7 has no vim.lsp.start: reuse by hand, one client per root.
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == M.name and client.config.root_dir == root then
      vim.lsp.buf_attach_client(bufnr, client.id)
      return client.id
    end
  end
  local id = vim.lsp.start_client(start_config(root))
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- For Neovim 0.8–0.10 (and 0.7): starts the server for Python and
--- .chalice/*.json buffers of Chalice projects.
---   require('chalice_iam').setup({ cmd = { '/path/to/chalice-iam', 'lsp' },
---                                  settings = { stage = 'prod' } })
function M.setup(opts)
  options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  local group = vim.api.nvim_create_augroup('chalice_iam', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = options.filetypes,
    callback = function(event)
      M.attach(event.buf)
    end,
  })
  -- Buffers already open when setup() runs (a lazy-loaded plugin).
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(options.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

local function clients_for(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  end
  local found = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == M.name then
      table.insert(found, client)
    end
  end
  return found
end

local function any_client()
  local all = vim.lsp.get_clients and vim.lsp.get_clients({ name = M.name }) or vim.lsp.get_active_clients()
  for _, client in pairs(all) do
    if client.name == M.name then
      return client
    end
  end
  return nil
end

local function request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Opens `text` in a new scratch buffer (filetype json) in a split.
local function open_scratch(text, root)
  vim.cmd('botright new')
  local bufnr = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, '\n', { plain = true, trimempty = true }))
  vim.bo[bufnr].buftype = 'nofile'
  vim.bo[bufnr].bufhidden = 'wipe'
  vim.bo[bufnr].swapfile = false
  vim.bo[bufnr].modified = false
  vim.bo[bufnr].filetype = 'json'
  -- A name tells the user what the buffer is; a unique one, since several
  -- projects' policies may be open at once.
  pcall(vim.api.nvim_buf_set_name, bufnr, ('chalice-iam://policy/%s#%d'):format(root or '', bufnr))
  return bufnr
end

--- `:ChaliceIamPolicy`: the IAM policy the current buffer's project needs,
--- in a scratch buffer. `done(bufnr_or_nil, err)` is called at the end
--- (for tests and scripts).
function M.show_policy(done)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = clients_for(bufnr)[1] or any_client()
  local function finish(result_buf, err)
    if err then
      vim.notify('chalice-iam: ' .. err, vim.log.levels.ERROR)
    end
    if done then
      done(result_buf, err)
    end
  end
  if not client then
    return finish(nil, 'no chalice-iam server is running; open a Python file of a Chalice project first')
  end
  local root = M.buffer_root(bufnr) or client.config.root_dir
  local params = { command = M.show_policy_command, arguments = root and { root } or {} }
  request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      return finish(nil, err.message or vim.inspect(err))
    end
    if type(result) ~= 'string' then
      return finish(nil, 'the server answered ' .. vim.inspect(result) .. ' instead of a policy document')
    end
    finish(open_scratch(result, root), nil)
  end, bufnr)
end

return M
