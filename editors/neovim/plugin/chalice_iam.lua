-- :ChaliceIamPolicy opens the IAM policy the current project needs (from the
-- chalice-iam server) in a scratch JSON buffer. Starting the server is left
-- to vim.lsp.enable('chalice_iam') (0.11+) or require('chalice_iam').setup().
if vim.g.loaded_chalice_iam then
  return
end
vim.g.loaded_chalice_iam = true

vim.api.nvim_create_user_command('ChaliceIamPolicy', function()
  require('chalice_iam').show_policy()
end, { desc = 'Show the IAM policy the Chalice project needs' })
